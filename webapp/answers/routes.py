"""Answer pages, categories and the home page: read input, call the service, render."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request, url_for

from webapp.answers import metadata, service
from webapp.content.markdown import to_html
from webapp.content.naming import SLUG_PATTERN
from webapp.extensions import db
from webapp.lookups import or_404
from webapp.graph import requests, signals, trail
from webapp.graph.readers import reader_key
from webapp.pagination import page_number
from webapp.rendering import render
from webapp.search import service as search_service

bp = Blueprint("answers", __name__)
RECENT_COUNT = 8


def _absolute(endpoint: str, **values) -> str:
    base = current_app.config["SITE_URL"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


_REFERRER_PATH = re.compile(rf"^/q/({SLUG_PATTERN})$")


def _count_visit(question) -> None:
    """A view, and a follow when the reader came from another answer on this site."""
    if question.answered:
        signals.record(db.engine, "view", question.id)
    referrer = urlsplit(request.referrer or "")
    match = _REFERRER_PATH.match(referrer.path)
    if match and referrer.netloc == request.host and match.group(1) != question.slug:
        source = service.question_by_slug(db.session, match.group(1))
        if source is not None:
            signals.record(db.engine, "follow", question.id, from_id=source.id)


@bp.get("/")
def home():
    return render(
        "answers/home.html",
        most_read=signals.most_read(db.session),
        recent=service.recent_answers(db.session, RECENT_COUNT),
        categories=service.categories_with_counts(db.session),
    )


@bp.get("/c/<slug:slug>")
def category(slug: str):
    found = or_404(service.category_by_slug(db.session, slug), "There is no category with that name.")
    page = or_404(service.category_page(db.session, found, page_number(), current_app.config["PAGE_SIZE"]),
                  "That page is past the end of this category.")
    return render("answers/category.html", block="question_list", category=found, page=page)


@bp.get("/q/<slug:slug>")
def question(slug: str):
    found = or_404(service.question_by_slug(db.session, slug), service.NO_QUESTION)
    url = _absolute("answers.question", slug=found.slug)
    trail.visit(found.slug)
    _count_visit(found)
    context = dict(
        trail_questions=trail.questions(db.session),
        question=found,
        canonical_url=url,
        description=metadata.description(found, current_app.config["SITE_NAME"]),
        linked_from=service.linked_from(db.session, found),
    )
    if not found.answered:
        widget = requests.widget(db.session, found, reader_key())
        return render("answers/unanswered.html", similar=_similar_answers(found),
                      request_count=widget["request_count"], requested=widget["requested"], **context)
    sources = service.source_refs(found)
    return render(
        "answers/question.html",
        went_on=signals.went_on_to_read(db.session, found),
        summary_html=to_html(found.summary, sources),
        section_html=[to_html(s.body, sources) for s in found.sections],
        outdated=service.is_outdated(found, dt.date.today(), current_app.config["OUTDATED_AFTER_MONTHS"]),
        jsonld=metadata.article_jsonld(found, url, current_app.config["SITE_NAME"], _absolute("answers.home")),
        **context,
    )


# A bound on the number keeps absurd values a 404 instead of an integer overflow.
def _similar_answers(question, limit: int = 5):
    """The best search results for an unanswered question's text, answered ones only."""
    return search_service.answers_like(db.session, question.text, limit)


@bp.get("/q/<slug:slug>/sections/<int(min=1, max=999):position>")
def section(slug: str, position: int):
    found = or_404(service.section_of(db.session, slug, position), "This answer has no section with that number.")
    body = to_html(found.body, service.source_refs(found.question))
    return render("answers/section.html", block="section_body", section=found,
                  question=found.question, body_html=body,
                  canonical_url=_absolute("answers.question", slug=found.question.slug))
