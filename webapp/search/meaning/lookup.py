"""The nearest questions to a text or to a question, for search and for the features
that guess (webapp/search/service.py is their way in)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from webapp.search.meaning import model
from webapp.search.meaning.nearest import Nearest


def enabled() -> bool:
    return bool(current_app.config.get("SEARCH_MEANING", True))


def nearest(session: Session) -> Nearest:
    """This process's vectors, brought up to date (at most every SEARCH_MEANING_REFRESH seconds)."""
    held: Nearest = current_app.extensions.setdefault("meaning", Nearest())
    held.refresh(session, current_app.config.get("SEARCH_MEANING_REFRESH", 2.0))
    return held


def near_text(session: Session, text: str, limit: int, floor: float = -1.0,
              left_out: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, float]]:
    if not enabled() or not text.strip():
        return []
    return nearest(session).near(model.embed([text])[0], limit, floor, left_out)


def near_question(session: Session, question_id: int, limit: int, floor: float = -1.0,
                  left_out: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, float]]:
    if not enabled():
        return []
    held = nearest(session)
    vector = held.vector_of(question_id)
    if vector is None:
        return []
    return held.near(vector, limit, floor, set(left_out) | {question_id})
