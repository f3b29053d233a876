"""The parts of a question's page that are the same for every reader of one content
version: its head tags, breadcrumb and body (summary, sections, sources, related lists;
on an unanswered page the similar answers), and for a short while the parts that follow
reading figures ("went on to read"). Rendered from the blocks of
templates/answers/_answer.html or _unanswered.html, and kept in the cache
(webapp/answers/cache.py); the page template puts the reader's own parts around them."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy.orm import Session

from webapp.answers import cache, metadata, parts, service
from webapp.answers.markdown import to_html
from webapp.answers.models import Question
from webapp.urls import absolute_url

ANSWERED_BLOCKS = ("head", "breadcrumb", "body")
UNANSWERED_BLOCKS = ("head", "breadcrumb", "header", "body")
SHARED_BLOCKS = ("went_on",)  # from the shared parts (answers/parts.py), kept for a short while


def _editor() -> bool:
    # An editor sees which related links were suggested automatically (_question_item.html).
    return bool(current_user.is_authenticated and current_user.is_editor)


def corrected_recently(question: Question, today: dt.date, days: int) -> bool:
    """Corrected within the last `days` days: on the day of the correction and `days` after
    it. (Corrections are dated in UTC; a later date than today's is a server behind UTC.)"""
    return question.corrected_on is not None and question.corrected_on >= today - dt.timedelta(days=days)


def _render(template: str, blocks: tuple[str, ...], **context) -> dict[str, str]:
    return {block: render_block(template, block, **context) for block in blocks}


def for_page(session: Session, version: str | None, question: Question) -> dict:
    """What the page template shows of the answer: `description` (text) and, as markup,
    each block of the answer's template."""
    config = current_app.config
    site_name = config["SITE_NAME"]
    home_url = absolute_url("answers.home")
    today = dt.date.today()
    outdated = question.answered and service.is_outdated(question, today, config["OUTDATED_AFTER_MONTHS"])
    # Like `outdated`, "Corrected on" comes and goes with the date, not only with content.
    corrected = question.answered and corrected_recently(question, today, config["CORRECTED_RECENTLY_DAYS"])
    key = (f"{question.id}:{'answered' if question.answered else 'unanswered'}:{_editor():d}:{outdated:d}:"
           f"{corrected:d}:{home_url}")

    def render() -> dict[str, str]:
        full = service.question_by_id(session, question.id)  # sections, sources, links, category
        if full is None:  # deleted since the page read it: as if it had been a moment earlier
            abort(404)
        url = absolute_url("answers.question", slug=full.slug)
        context = dict(question=full, canonical_url=url, description=metadata.description(full, site_name),
                       linked_from=service.linked_from(session, full))
        if not full.answered:
            return dict(description=context["description"],
                        **_render("answers/_unanswered.html", UNANSWERED_BLOCKS, **context, **parts.content_for(full)))
        sources = service.source_refs(full)
        return dict(description=context["description"], **_render(
            "answers/_answer.html", ANSWERED_BLOCKS, **context, outdated=outdated, corrected_recently=corrected,
            summary_html=to_html(full.summary, sources),
            section_html=[to_html(s.body, sources) for s in full.sections],
            jsonld=metadata.article_jsonld(full, url, site_name, home_url),
            claim_review=metadata.claim_review_jsonld(full, url, site_name, home_url),
            verdict_labels=metadata.VERDICT_LABELS, **parts.content_for(full)))

    found = cache.kept(session, version, key, render, settled=parts.content_settled)
    if parts.has_shared():
        def render_shared() -> dict[str, str]:
            return _render("answers/_answer.html", SHARED_BLOCKS, question=question, **parts.shared_for(question))

        seconds = config["ANSWER_SHARED_SECONDS"]  # 0: not kept (to the cache, a timeout of 0 is "for ever")
        found = {**found, **(cache.kept(session, version, f"shared:{key}", render_shared, seconds=seconds)
                             if seconds > 0 else render_shared())}
    return {name: value if name == "description" else Markup(value) for name, value in found.items()}
