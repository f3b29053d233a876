"""Word search over question texts and summaries in the database.

Every word must appear (case-insensitive). This is the database fallback that the
Whoosh index (issue 3) will sit in front of; it stays correct, just not ranked."""
from __future__ import annotations

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import ANSWERED, Question

MAX_QUERY = 200
MAX_WORDS = 8


def normalise(query: str) -> str:
    printable = "".join(c if c.isprintable() else " " for c in query)
    return " ".join(printable.split())[:MAX_QUERY]


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, query: str, limit: int = 20) -> list[Question]:
    words = normalise(query).split()[:MAX_WORDS]
    if not words:
        return []
    statement = select(Question).options(selectinload(Question.category))
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        statement = statement.where(or_(Question.text.ilike(pattern, escape="\\"),
                                        Question.summary.ilike(pattern, escape="\\")))
    answered_first = case((Question.status == ANSWERED, 0), else_=1)
    return list(session.scalars(statement.order_by(answered_first, Question.text).limit(limit)))
