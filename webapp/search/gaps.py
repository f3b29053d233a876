"""Queries that found nothing, kept as a content-gap list for editors.

Only a normalised form is kept (lower-case words, no e-mail addresses, no long
numbers), counted, with first and last dates: enough to see what readers miss,
nothing that identifies them.

The count is of readers, not of searches: each reader at most once a day (the same
memory as the reading figures, webapp/counting.py), no robots, and an address may add
only so many gaps an hour (GAP_LIMIT). Editors see a gap once GAP_MIN_READERS readers
met it, so one reader's ten nonsense searches never reach their list (issue 10,
finding 13). Recording is secondary: a database that cannot be written leaves the
search page as it was (finding 8)."""
from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from webapp import counting
from webapp.clock import utcnow
from webapp.search.models import SearchGap
from webapp.search.query import ReaderQuery

_EMAIL = re.compile(r"\S+@\S+")
_LONG_NUMBER = re.compile(r"\d{5,}")


def normalised(query: ReaderQuery) -> str:
    text = _EMAIL.sub(" ", query.text)
    words = [w for w in re.findall(r"[^\W_]+", text.lower()) if not _LONG_NUMBER.search(w)]
    return " ".join(words)[:200]


def worth_recording(key: str) -> bool:
    return len(key) >= 2


def record(session: Session, query: ReaderQuery) -> None:
    """Count one more reader who found nothing for this query.

    Whether this is a reader's first time today is the caller's to decide
    (webapp/search/routes.py). On a failed write the session is rolled back, so the
    page that called goes on reading with it."""
    key = normalised(query)
    if not worth_recording(key):
        return
    try:
        bump = update(SearchGap).where(SearchGap.query == key).values(count=SearchGap.count + 1,
                                                                       last_seen=utcnow())
        if session.execute(bump).rowcount == 0:
            try:
                with session.begin_nested():
                    session.add(SearchGap(query=key))
            except IntegrityError:  # another request inserted it first
                session.execute(bump)
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        counting.failed("gap", error)
        return
    counting.succeeded("gap")


def top(session: Session, limit: int = 100, min_readers: int = 1) -> list[SearchGap]:
    """The gaps met most, of those met by at least `min_readers` readers."""
    return list(session.scalars(
        select(SearchGap).where(SearchGap.count >= min_readers)
        .order_by(SearchGap.count.desc(), SearchGap.last_seen.desc()).limit(limit)
    ))
