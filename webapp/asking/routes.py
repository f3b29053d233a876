"""Readers ask: /ask (the form, "Is it one of these?", what happened), /ask/<id> (the
asker's own view of an ask), and the editors' review queue under /desk/asks."""
from __future__ import annotations

import datetime as dt
import re
import secrets

from flask import (Blueprint, abort, current_app, make_response, redirect, request, session,
                   url_for)
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from webapp.answers.metadata import VERDICT_LABELS
from webapp.answers.models import Category
from webapp.asking import service
from webapp.asking.models import PENDING, Ask
from webapp.clock import utcnow
from webapp.editors import editor_required
from webapp.extensions import db, limiter
from webapp.graph.readers import reader_key
from webapp.lookups import or_404
from webapp.pagination import page_number
from webapp.redirects import safe_next
from webapp.rendering import go, render, wants_fragment
from webapp.site import errors

bp = Blueprint("asking", __name__)
MINE = "asks"  # the session remembers a logged-out asker's asks, so they can see them again
MINE_KEPT = 20
NO_ASK = "There is no question with that number, or it is not yours to see."
QUEUE_PAGE_SIZE = 20
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@bp.record_once
def _account_part(state) -> None:
    """/account lists the reader's questions through this global (accounts does not import asking)."""
    state.app.jinja_env.globals["my_asks"] = my_asks


def my_asks() -> list[Ask]:
    if not current_user.is_authenticated:
        return []
    return service.asked_by(db.session, current_user.id)


# --- the form -------------------------------------------------------------------------------

def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _limit() -> str:
    return current_app.config["ASK_LIMIT"]


def _counted(response) -> bool:
    """Only posts that did something count toward the limit (a form sent back with its
    mistakes, or the offer of existing questions, does not use up the allowance)."""
    return response.status_code < 400 and getattr(response, "asking_counted", False)


def _box(step: str, status: int = 200, **ctx):
    """The ask box in one of its steps: in place for htmx, else as the /ask page."""
    ctx.setdefault("draft", service.Draft())
    ctx.setdefault("form_key", secrets.token_urlsafe(24))
    body = render("asking/ask.html", block="ask_box", step=step, verdict_labels=VERDICT_LABELS, **ctx)
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _form_key() -> str:
    raw = request.form.get("key", "")
    if not _FORM_KEY.match(raw):
        abort(400, description="The form is missing its key; please load the page again and ask again.")
    return raw


def _remember(ask: Ask) -> None:
    if not current_user.is_authenticated:
        session[MINE] = ([ask.id] + [i for i in session.get(MINE, []) if i != ask.id])[:MINE_KEPT]


def _mine(ask: Ask) -> bool:
    if current_user.is_authenticated and ask.user_id == current_user.id:
        return True
    return ask.user_id is None and ask.id in session.get(MINE, [])


def _word_list() -> frozenset[str]:
    return service.load_word_list(current_app.config["ASK_WORD_LIST"] or None)


def _address_key() -> str:
    return service.address_key(current_app.config["SECRET_KEY"], get_remote_address() or "")


def _over_the_cap(now: dt.datetime):
    """The 429 for an asker who has reached ASK_DAILY_CAP asks in 24 hours, or None."""
    user_id = current_user.id if current_user.is_authenticated else None
    address = None if user_id else _address_key()
    cap = current_app.config["ASK_DAILY_CAP"]
    if service.asked_today(db.session, user_id=user_id, address=address, now=now) < cap:
        return None
    wait = service.next_ask_at(db.session, user_id=user_id, address=address, now=now, cap=cap) - now
    response = _box("form", 429, draft=service.read(request.form.get("text", ""), request.form.get("context", "")),
                    form_key=request.form.get("key"),
                    message=f"You have asked {cap} questions in the last 24 hours, as many as we take in a day. "
                            "Please ask again later; what you wrote is kept below.")
    response.headers["Retry-After"] = str(max(1, int(wait.total_seconds()) + 1))
    return response


def _chosen(slug: str):
    """The reader chose one of the offered questions: their ask becomes a request for it."""
    question = or_404(service.question_by_slug(db.session, slug), "There is no question with that name.")
    if question.answered:
        return go(url_for("answers.question", slug=question.slug))
    added = service.request_for(db.session, question, reader_key(create=True))
    db.session.commit()
    response = _box("known", question=question, requested=added, chosen=True)
    response.asking_counted = True
    return response


@bp.route("/ask", methods=["GET", "POST"])
@limiter.limit(_limit, key_func=get_remote_address, methods=["POST"], deduct_when=_counted)
@limiter.limit(_limit, key_func=_account_key, methods=["POST"], deduct_when=_counted,
               exempt_when=lambda: not current_user.is_authenticated)
def ask():
    if request.method == "GET":
        return _box("form", draft=service.Draft(text=service.clean_line(request.args.get("q", ""))[:300]))
    if chosen := request.form.get("choose"):
        return _chosen(chosen)
    form_key = _form_key()
    draft = service.read(request.form.get("text", ""), request.form.get("context", ""))
    if draft.errors:
        return _box("form", 422, draft=draft, form_key=form_key)
    existing = service.by_key(db.session, form_key)
    if existing is not None:  # the same form again (a double click, a retry): the same ask
        return _kept(existing) if _mine(existing) or existing.requester == reader_key() else \
            abort(409, description="This form was used for another question; please load the page again.")
    now = utcnow()
    if (refused := _over_the_cap(now)) is not None:
        return refused
    hits = service.offers(db.session, draft.text)
    if (same := service.same_question(db.session, draft, hits)) is not None:
        added = service.request_for(db.session, same, reader_key(create=True))
        db.session.commit()
        response = _box("known", question=same, requested=added)
        response.asking_counted = True
        return response
    if hits and request.form.get("confirmed") != "yes":
        return _box("offers", draft=draft, form_key=form_key, hits=hits)
    user_id = current_user.id if current_user.is_authenticated else None
    flagged = service.listed_words(draft.text, _word_list())
    try:
        kept = service.keep(db.session, draft, form_key=form_key, requester=reader_key(create=True), user_id=user_id,
                            address=None if user_id else _address_key(), flagged=flagged,
                            category=service.category_guess(db.session, hits), now=now)
    except service.KeyTaken:
        abort(409, description="This form was used for another question; please load the page again.")
    if kept.state == PENDING and not flagged and service.trusted(
            db.session, user_id, current_app.config["ASK_TRUSTED_AFTER"], now):
        service.open_ask(db.session, kept, editor_id=user_id, now=now)
    db.session.commit()
    _remember(kept)
    return _kept(kept)


def _kept(kept: Ask):
    if not wants_fragment():
        response = redirect(url_for("asking.asked", ask_id=kept.id), code=303)
    else:
        response = _box("kept", ask=kept)
    response.asking_counted = True
    return response


@bp.get("/ask/<int(max=2147483647):ask_id>")
def asked(ask_id: int):
    found = db.session.get(Ask, ask_id)
    if found is None or not _mine(found):
        abort(404, description=NO_ASK)
    response = make_response(render("asking/asked.html", block="ask_status", ask=found))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _form_again(status: int, message: str):
    return _box("form", status, draft=service.read(request.form.get("text", ""), request.form.get("context", "")),
                form_key=request.form.get("key") if _FORM_KEY.match(request.form.get("key", "")) else None,
                message=message)


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    if request.endpoint != "asking.ask":
        return errors.csrf_page(error)
    return _form_again(400, "Nothing was sent: the form's security token is missing or wrong. Please send it again.")


@bp.errorhandler(429)
def too_many(error):
    if request.endpoint != "asking.ask":
        return errors.error_page(error)
    response = _form_again(429, "Nothing was sent: that is a lot of questions in a short time. "
                                "Please wait a while and ask again; what you wrote is kept below.")
    if retry_after := dict(error.get_headers()).get("Retry-After"):
        response.headers["Retry-After"] = retry_after
    return response


# --- the editors' review queue -----------------------------------------------------------------

def _state_filter() -> str:
    state = request.args.get("state", PENDING)
    if state not in service.FILTERS:
        abort(400, description="Show questions that are pending, open, merged, declined, or all.")
    return state


def _queue_url(state: str, page: int = 1) -> str:
    return url_for("asking.queue", state=None if state == PENDING else state, page=page if page > 1 else None)


def _categories() -> list[Category]:
    return list(db.session.scalars(db.select(Category).order_by(Category.name)))


@bp.get("/desk/asks")
@editor_required
def queue():
    state = _state_filter()
    size = current_app.config.get("ASKS_PAGE_SIZE", QUEUE_PAGE_SIZE)
    page = or_404(service.queue(db.session, state, page_number(), size), "That page is past the end of the questions.")
    response = make_response(render("asking/queue.html", block="ask_list", page=page, state=state,
                                    filters=service.FILTERS, categories=_categories(),
                                    back=_queue_url(state, page.number), queue_url=_queue_url))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _row(ask: Ask, status: int = 200, **ctx):
    body = render("asking/decide.html", block="row", ask=ask, categories=_categories(),
                  back=safe_next(request.values.get("back"), url_for("asking.queue")), **ctx)
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/desk/asks/<int(max=2147483647):ask_id>", methods=["GET", "POST"])
@editor_required
def decide(ask_id: int):
    found = or_404(db.session.get(Ask, ask_id), "There is no question with that number.")
    if request.method == "GET":
        return _row(found)
    action = request.form.get("action", "")
    try:
        if action == "open":
            service.open_ask(db.session, found, editor_id=current_user.id,
                             category_slug=request.form.get("category", ""), slug=request.form.get("slug", ""))
        elif action == "merge":
            service.merge(db.session, found, request.form.get("into", ""), editor_id=current_user.id)
        elif action == "decline":
            service.decline(db.session, found, request.form.get("reason", ""), editor_id=current_user.id)
        else:
            raise service.DecisionRefused({"action": "Choose open, merge or decline."})
    except service.DecisionRefused as refused:
        db.session.rollback()
        found = db.session.get(Ask, ask_id)
        return _row(found, 422, decision_errors=refused.errors, sent=request.form)
    db.session.commit()
    if not wants_fragment():
        return redirect(safe_next(request.form.get("back"), url_for("asking.queue")), code=303)
    return _row(found, just_decided=True)
