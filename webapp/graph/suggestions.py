"""Suggested related questions: "Want to dive deeper?" filled up to five from the text.

Curated links (from the content files) come first, in file order; the rest are the
answered questions most like this one (the search engine's "similar answers").
They are stored as related links of kind "suggested" and recomputed when content
changes (`flask content import`, `flask graph suggest`), never per request."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import ANSWERED, CURATED, SUGGESTED, Question, RelatedLink
from webapp.search import service as search

TARGET = 5  # entries in "Want to dive deeper?"


def refresh(session: Session, ids: Iterable[int] | None = None,
            progress: Callable[[int], None] | None = None) -> int:
    """Recompute the suggestions of the given answered questions (all, by default)."""
    statement = select(Question).where(Question.status == ANSWERED).options(selectinload(Question.links))
    if ids is not None:
        statement = statement.where(Question.id.in_(list(ids)))
    changed = 0
    for question in session.scalars(statement).all():
        curated = [link for link in question.links if link.kind == CURATED]
        wanted = max(0, TARGET - len(curated))
        suggested = search.similar_answered(session, question.id, {link.to_id for link in curated}, wanted)
        session.execute(delete(RelatedLink).where(RelatedLink.from_id == question.id,
                                                  RelatedLink.kind == SUGGESTED))
        for offset, target in enumerate(suggested, start=len(curated) + 1):
            session.add(RelatedLink(from_id=question.id, to_id=target, position=offset, kind=SUGGESTED))
        changed += 1
        if progress:
            progress(1)
    session.commit()
    return changed
