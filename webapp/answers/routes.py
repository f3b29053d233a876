"""Answer pages, categories and the home page: read input, call the service, render."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app

from webapp.answers import metadata, parts, service
from webapp.answers.markdown import to_html
from webapp.extensions import db
from webapp.lookups import or_404
from webapp.pagination import page_number
from webapp.rendering import render
from webapp.urls import absolute_url

bp = Blueprint("answers", __name__)
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
    found = or_404(service.question_by_slug(db.session, slug), service.NO_QUESTION)
    url = absolute_url("answers.question", slug=found.slug)
    context = dict(
        question=found,
        canonical_url=url,
        description=metadata.description(found, current_app.config["SITE_NAME"]),
        linked_from=service.linked_from(db.session, found),
        **parts.for_question(found),  # the reader's path, figures, requests, similar answers
    )
    if not found.answered:
        return render("answers/unanswered.html", **context)
    sources = service.source_refs(found)
    return render(
        "answers/question.html",
        summary_html=to_html(found.summary, sources),
        section_html=[to_html(s.body, sources) for s in found.sections],
        outdated=service.is_outdated(found, dt.date.today(), current_app.config["OUTDATED_AFTER_MONTHS"]),
        jsonld=metadata.article_jsonld(found, url, current_app.config["SITE_NAME"], absolute_url("answers.home")),
        **context,
    )


# A bound on the number keeps absurd values a 404 instead of an integer overflow.
@bp.get("/q/<slug:slug>/sections/<int(min=1, max=999):position>")
def section(slug: str, position: int):
    found = or_404(service.section_of(db.session, slug, position), "This answer has no section with that number.")
    body = to_html(found.body, service.source_refs(found.question))
    return render("answers/section.html", block="section_body", section=found,
                  question=found.question, body_html=body,
                  canonical_url=absolute_url("answers.question", slug=found.question.slug))
