"""Turning questions into search documents, in batches that stay small in memory.

`texts` is what every engine indexes of a question; `document` is its Whoosh form."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import Question
from webapp.answers.markdown import to_plain_text

BATCH = 500
T = TypeVar("T")


def domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


@dataclass(frozen=True)
class QuestionTexts:
    """A question as search sees it, in plain text, by how much each part weighs."""

    id: int
    slug: str
    question: str
    summary: str
    headings: str
    bodies: str  # the sections' text, then the sources' titles and publishers
    category: str
    category_name: str
    status: str
    checked_on: dt.date | None
    cites: tuple[str, ...]  # the sources' domains, sorted
    verdict: str | None  # the claim's verdict (webapp/content/parser.py VERDICTS), None without one

    @property
    def spell(self) -> str:
        # Corrections come from questions and headings: the words readers search with,
        # at a fraction of the indexing cost of the whole text.
        return f"{self.question} {self.headings}"


def texts(question: Question) -> QuestionTexts:
    headings = " ".join(s.heading for s in question.sections)
    bodies = [to_plain_text(s.body) for s in question.sections]
    bodies += [f"{s.title} {s.publisher or ''}" for s in question.sources]
    return QuestionTexts(
        id=question.id, slug=question.slug, question=question.text,
        summary=to_plain_text(question.summary) if question.summary else "",
        headings=headings, bodies="\n".join(bodies),
        category=question.category.slug if question.category else "",
        category_name=question.category.name if question.category else "",
        status=question.status, checked_on=question.checked_on,
        cites=tuple(sorted({domain(s.url) for s in question.sources} - {""})),
        verdict=question.verdict,
    )


def version(values) -> str:
    """A digest of what was indexed, to spot a stale copy."""
    return hashlib.sha1(repr(values).encode()).hexdigest()


def document(question: Question) -> dict:
    """The fields Whoosh indexes for one question, with a version to spot stale copies."""
    return document_of(texts(question))


def document_of(t: QuestionTexts) -> dict:
    """The Whoosh fields of a question's texts."""
    fields = {
        "id": str(t.id),
        "slug": t.slug,
        "question": t.question,
        "summary": t.summary,
        "content": "\n".join([t.summary, t.headings, t.bodies]),
        "category": t.category,
        "category_name": t.category_name,
        "status": t.status,
        "cites": ",".join(t.cites),
        "spell": t.spell,
    }
    if t.checked_on:
        fields["checked_on"] = dt.datetime.combine(t.checked_on, dt.time())
    if t.verdict:  # left out, not empty: no term to match, and an unrated answer's version stays as it was
        fields["verdict"] = t.verdict
    fields["version"] = version(sorted(fields.items()))
    return fields


def _loaded(statement):
    return statement.options(
        selectinload(Question.sections), selectinload(Question.sources), selectinload(Question.category)
    )


def documents_for(session: Session, ids: Iterable[int], build: Callable[[Question], T] = document) -> dict[int, T]:
    """Documents for the questions among `ids` that still exist."""
    wanted = list(ids)
    found: dict[int, T] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        for question in session.scalars(_loaded(select(Question).where(Question.id.in_(chunk)))):
            found[question.id] = build(question)
    return found


def all_documents(session: Session, build: Callable[[Question], T] = document, batch: int = BATCH) -> Iterator[T]:
    """Every question's document, read in id order a batch at a time."""
    last = 0
    while True:
        questions = session.scalars(
            _loaded(select(Question).where(Question.id > last).order_by(Question.id).limit(batch))
        ).all()
        if not questions:
            return
        for question in questions:
            yield build(question)
        last = questions[-1].id
        session.expunge_all()  # keep memory flat over 100,000 questions
