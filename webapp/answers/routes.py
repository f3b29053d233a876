"""Answer pages, categories and the home page: read input, call the service, render."""
from __future__ import annotations

from flask import Blueprint, current_app

from webapp.answers import bodies, counts, parts, service
from webapp.answers import cache as answer_cache
from webapp.answers.markdown import to_html
from webapp.extensions import db
from webapp.lookups import or_404
from webapp.pagination import page_number
from webapp.rendering import render
from webapp.urls import absolute_url

bp = Blueprint("answers", __name__)
# The answer cache and its content version come with the pages that use them.
bp.record_once(lambda state: answer_cache.register(state.app))
bp.record_once(lambda _state: counts.listen())
RECENT_COUNT = 8


@bp.get("/")
def home():
    return render(
        "answers/home.html",
        recent=service.recent_answers(db.session, RECENT_COUNT),
        categories=service.categories_with_counts(db.session),
        **parts.for_home(),
    )


@bp.get("/c/<slug:slug>")
def category(slug: str):
    found = or_404(service.category_by_slug(db.session, slug), "There is no category with that name.")
    page = or_404(service.category_page(db.session, found, page_number(), current_app.config["PAGE_SIZE"]),
                  "That page is past the end of this category.")
    return render("answers/category.html", block="question_list", category=found, page=page)


@bp.get("/q/<slug:slug>")
def question(slug: str):
    found, version = service.question_and_version(db.session, slug)
    found = or_404(found, service.NO_QUESTION)
    context = dict(
        question=found,
        answer=bodies.for_page(db.session, version, found),  # the same for every reader: cached
        **parts.for_question(found),  # the reader's path, figures, requests
    )
    return render("answers/question.html" if found.answered else "answers/unanswered.html", **context)


# A bound on the number keeps absurd values a 404 instead of an integer overflow.
@bp.get("/q/<slug:slug>/sections/<int(min=1, max=999):position>")
def section(slug: str, position: int):
    found = or_404(service.section_of(db.session, slug, position), "This answer has no section with that number.")
    body = to_html(found.body, service.source_refs(found.question))
    return render("answers/section.html", block="section_body", section=found,
                  question=found.question, body_html=body,
                  canonical_url=absolute_url("answers.question", slug=found.question.slug))
