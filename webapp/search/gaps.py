"""Queries that found nothing, kept as a content-gap list for editors.

Only a normalised form is kept (lower-case words, no e-mail addresses, no long
numbers), counted, with first and last dates: enough to see what readers miss,
nothing that identifies them."""
from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.answers.models import utcnow
from webapp.search.models import SearchGap
from webapp.search.query import ReaderQuery

_EMAIL = re.compile(r"\S+@\S+")
_LONG_NUMBER = re.compile(r"\d{5,}")


def normalised(query: ReaderQuery) -> str:
    text = _EMAIL.sub(" ", query.text)
    words = [w for w in re.findall(r"[^\W_]+", text.lower()) if not _LONG_NUMBER.search(w)]
    return " ".join(words)[:200]


def record(session: Session, query: ReaderQuery) -> None:
    """Count one more reader who found nothing for this query."""
    key = normalised(query)
    if len(key) < 2:
        return
    bump = update(SearchGap).where(SearchGap.query == key).values(count=SearchGap.count + 1, last_seen=utcnow())
    if session.execute(bump).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(SearchGap(query=key))
        except IntegrityError:  # another request inserted it first
            session.execute(bump)
    session.commit()


def top(session: Session, limit: int = 100) -> list[SearchGap]:
    return list(session.scalars(
        select(SearchGap).order_by(SearchGap.count.desc(), SearchGap.last_seen.desc()).limit(limit)
    ))
