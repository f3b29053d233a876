"""Asking for an answer, and the list of the most-requested questions."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, current_app, redirect, request, url_for
from sqlalchemy import exists, select

from webapp.answers import service as answers
from webapp.answers.models import ANSWERED, Category, Question, RelatedLink
from webapp.content.naming import SLUG_RE
from webapp.editors import editor_required
from webapp.lookups import or_404
from webapp.extensions import db, limiter
from webapp.graph import chains, demand, explorer, ranking, requests, signals, trail
from webapp.graph.readers import reader_key
from webapp.pagination import page_number, page_of, paginate_capped
from webapp.rendering import render, wants_fragment
from webapp.redirects import same_site_referrer
from webapp.search import service as search_service

bp = Blueprint("graph", __name__)
bp.record_once(lambda _state: demand.listen())  # request counters move with the requests


@bp.post("/q/<slug:slug>/request")
@limiter.limit(lambda: current_app.config["ANSWER_REQUEST_LIMIT"])
def request_answer(slug: str):
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    if question.answered:
        abort(409, description="This question has been answered already.")
    added = requests.request_answer(db.session, question, reader_key(create=True))
    if added:
        signals.record(db.engine, "request", question.id)
    if not wants_fragment():
        # Post/redirect/get: reloading the page does not ask again.
        return redirect(url_for("answers.question", slug=slug, _anchor="request-answer"), code=303)
    return render("graph/_request.html", block=None, just_added=added,
                  **requests.widget(db.session, question, reader_key()))


@bp.get("/requests")
def most_requested():
    page = or_404(page_of(requests.requested_count(db.session), page_number(), current_app.config["REQUESTS_PAGE_SIZE"],
                          partial(requests.most_requested, db.session)), "That page is past the end of the list.")
    return render("graph/requests.html", block="request_list", page=page)


def _hops() -> int:
    raw = request.args.get("hops", "1")
    if raw not in ("1", "2"):
        abort(400, description="The explorer shows 1 or 2 hops around a question.")
    return int(raw)


@bp.get("/explore/<slug:slug>")
def explore(slug: str):
    hops = _hops()
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    trail.visit(slug)
    if wants_fragment():
        signals.record(db.engine, "recentre", question.id)
    around = explorer.neighbourhood(db.session, question, hops)
    return render("graph/explorer.html", block="explorer", question=question, around=around,
                  trail_questions=trail.questions(db.session))


@bp.post("/trail/clear")
def clear_trail():
    trail.clear()
    if wants_fragment():
        return render("graph/_trail.html", block=None, trail_questions=[])
    return redirect(same_site_referrer() or url_for("answers.home"), code=303)


def _questions(ids: list[int]) -> list[dict]:
    """What a link to each question shows, in the order of `ids`."""
    found = {row.id: dict(id=row.id, slug=row.slug, text=row.text, answered=row.status == ANSWERED,
                          category=row.category_id)
             for row in db.session.execute(select(Question.id, Question.slug, Question.text, Question.status,
                                                  Question.category_id).where(Question.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@bp.get("/explore")
def explore_index():
    # Every category's hubs in one query (ranking.category_hubs): one query per category
    # took 330 ms for this page at 1,000,000 questions and 20 categories.
    hubs, hubs_of = ranking.hubs(db.session, 10), ranking.category_hubs(db.session, 5)
    shown = {q["id"]: q for q in _questions([*hubs, *(i for ids in hubs_of.values() for i in ids)])}
    clusters = [(category, [shown[i] for i in hubs_of[category.id] if i in shown])
                for category in db.session.scalars(select(Category).order_by(Category.name)) if category.id in hubs_of]
    return render("graph/index.html", hubs=[shown[i] for i in hubs if i in shown], clusters=clusters)


ORPHANS_COUNTED = 1000  # past this, "more than 1,000"


@bp.get("/explore/orphans")
@editor_required
def explore_orphans():
    # Newest first, read backwards along the primary key, and counted only so far: in
    # order of their text, and counted whole, the list sorted every answer (56 s at
    # 1,000,000 questions, 225,353 of them orphans). New answers are the likeliest
    # orphans, as on the desk's home.
    unlinked = (select(Question.id).where(Question.status == ANSWERED,
                                          ~exists().where(RelatedLink.to_id == Question.id))
                .order_by(Question.id.desc()))
    page = or_404(paginate_capped(db.session, unlinked, page_number(), current_app.config["REQUESTS_PAGE_SIZE"],
                                  ORPHANS_COUNTED), "That page is past the end of the list.")
    return render("graph/orphans.html", block="orphan_list", page=page, orphans=_questions(page.items),
                  counted=ORPHANS_COUNTED)


def _question_arg(name: str):
    """The question a query argument names by slug; anything that is not a slug names none."""
    slug = request.args.get(name, "")
    return answers.question_by_slug(db.session, slug) if SLUG_RE.match(slug) else None


@bp.get("/explore/path")
def explore_path():
    """How are two questions connected? `to` names the other by slug; `q` finds it by words."""
    start = _question_arg("from")
    if start is None:
        abort(404, description="Choose a question to start from.")
    text = request.args.get("q", "").strip()
    candidates = []
    target = _question_arg("to")
    if target is None and text:
        hits = search_service.search_text(db.session, text).hits
        candidates = [h for h in hits if h.slug != start.slug][:6]
        target = answers.question_by_slug(db.session, candidates[0].slug) if candidates else None
    steps = chains.chain(db.session, start.id, target.id) if target else None
    return render("graph/path.html", block="path_result", start=start, target=target, text=text,
                  candidates=candidates[1:], steps=_questions(steps) if steps else None)
