"""An answer's history and the site's corrections, for readers: read input, call the
service, render."""
from __future__ import annotations

import re
from functools import partial

from flask import Blueprint, abort, current_app, request
from markupsafe import Markup

from webapp.answers import service as answers
from webapp.answers.markdown import SourceRef, to_html
from webapp.answers.metadata import VERDICT_LABELS
from webapp.content.parser import ContentError, parse
from webapp.extensions import db
from webapp.lookups import or_404
from webapp.pagination import page_number, page_of
from webapp.rendering import render
from webapp.revisions import citing, service  # its models, and the importer's revisions
from webapp.revisions.models import KIND_LABELS

bp = Blueprint("revisions", __name__)

INTEGER = re.compile(r"-?[0-9]+")
LARGEST = 2**31 - 1  # an integer column's largest value: past it no revision exists (and PostgreSQL would refuse it)


@bp.context_processor
def kind_labels() -> dict:
    return {"kind_labels": KIND_LABELS}


@bp.get("/q/<slug:slug>/history")
def history(slug: str):
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    return render("revisions/history.html", block="revision_list", question=question,
                  entries=service.history_entries(db.session, question.id))


def _number(name: str) -> int:
    """A revision number from the query: 400 unless it is a whole number; numbers no
    revision could have are left to the lookup's 404."""
    raw = request.args.get(name, "").strip()
    if not raw:
        abort(400, description="Choose two revisions to compare (from and to).")
    if not INTEGER.fullmatch(raw):
        abort(400, description="A revision is named by its number, a whole number from 1 upwards.")
    return int(raw) if len(raw) <= 12 else LARGEST + 1  # int() refuses thousands of digits


def _revision(question_id: int, number: int):
    found = service.by_number(db.session, question_id, number) if 1 <= number <= LARGEST else None
    return or_404(found, f"This answer has no revision {number}.")


@bp.get("/q/<slug:slug>/history/diff")
def diff(slug: str):
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    first, second = _number("from"), _number("to")
    before, after = service.described(db.session, [_revision(question.id, first), _revision(question.id, second)])
    return render("revisions/diff.html", block="difference", question=question, before=before, after=after,
                  changed=service.changed(before.revision.text, after.revision.text),
                  difference=service.diff_html(before.revision.text, after.revision.text))


@bp.get("/q/<slug:slug>/history/<int(max=2147483647):number>")
def revision(slug: str, number: int):
    """The answer as revision `number` had it: the permalink a citation names."""
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    [entry] = service.described(db.session, [_revision(question.id, number)])
    try:
        answer = parse(f"{slug}.md", entry.revision.text)
    except ContentError:  # every revision was written by the exporter; a damaged one is shown as its file
        answer = None
    latest = service.latest_number(db.session, question.id)
    body = {}
    if answer is not None:
        sources = [SourceRef(s.title, s.publisher) for s in answer.sources]
        body = dict(summary_html=to_html(answer.summary, sources),
                    section_html=[Markup(to_html(text, sources)) for _heading, text in answer.sections])
    citation = (citing.cite(site_name=current_app.config["SITE_NAME"], title=answer.question, slug=slug,
                            permalink=citing.permalink(slug, number), checked_on=answer.checked_on, number=number)
                if answer is not None and answer.checked_on else None)
    return render("revisions/revision.html", block=None, question=question, entry=entry, answer=answer,
                  latest=latest, citation=citation, verdict_labels=VERDICT_LABELS, **body)


@bp.get("/corrections")
def corrections():
    page = or_404(page_of(service.corrections_count(db.session), page_number(), current_app.config["PAGE_SIZE"],
                          partial(service.correction_entries, db.session)), "That page is past the end of the list.")
    return render("revisions/corrections.html", block="correction_list", page=page)
