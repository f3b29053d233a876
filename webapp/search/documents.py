"""Turning questions into search documents, in batches that stay small in memory."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import Question
from webapp.content.markdown import to_plain_text

BATCH = 500


def domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def document(question: Question) -> dict:
    """The fields Whoosh indexes for one question, with a version to spot stale copies."""
    summary = to_plain_text(question.summary) if question.summary else ""
    headings = " ".join(s.heading for s in question.sections)
    fields = {
        "id": str(question.id),
        "slug": question.slug,
        "question": question.text,
        "summary": summary,
        "content": "\n".join([
            summary, headings, *(to_plain_text(s.body) for s in question.sections),
            *(f"{s.title} {s.publisher or ''}" for s in question.sources),
        ]),
        "category": question.category.slug if question.category else "",
        "category_name": question.category.name if question.category else "",
        "status": question.status,
        "cites": ",".join(sorted({domain(s.url) for s in question.sources} - {""})),
        # Corrections come from questions and headings: the words readers search with,
        # at a fraction of the indexing cost of the whole text.
        "spell": f"{question.text} {headings}",
    }
    if question.checked_on:
        fields["checked_on"] = dt.datetime.combine(question.checked_on, dt.time())
    fields["version"] = hashlib.sha1(repr(sorted(fields.items())).encode()).hexdigest()
    return fields


def _loaded(statement):
    return statement.options(
        selectinload(Question.sections), selectinload(Question.sources), selectinload(Question.category)
    )


def documents_for(session: Session, ids: Iterable[int]) -> dict[int, dict]:
    """Documents for the questions among `ids` that still exist."""
    wanted = list(ids)
    found: dict[int, dict] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        for question in session.scalars(_loaded(select(Question).where(Question.id.in_(chunk)))):
            found[question.id] = document(question)
    return found


def all_documents(session: Session) -> Iterator[dict]:
    """Every question's document, read in id order a batch at a time."""
    last = 0
    while True:
        batch = session.scalars(
            _loaded(select(Question).where(Question.id > last).order_by(Question.id).limit(BATCH))
        ).all()
        if not batch:
            return
        for question in batch:
            yield document(question)
        last = batch[-1].id
        session.expunge_all()  # keep memory flat over 100,000 questions
