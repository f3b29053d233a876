"""The nearest questions to a text or to a question, for search and for the features
that guess (webapp/search/service.py is their way in)."""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.search.meaning import model
from webapp.search.meaning.nearest import Nearest, vector_of


log = logging.getLogger(__name__)
_starting = threading.Lock()


def enabled() -> bool:
    return bool(current_app.config.get("SEARCH_MEANING", True))


def nearest(session: Session) -> Nearest:
    """This process's vectors, brought up to date (at most every SEARCH_MEANING_REFRESH seconds).

    A serving process reads them all the first time in a thread (at 100,000 questions
    that takes seconds), and finds nothing by meaning until it is done: search is by
    words alone for that while, never slow or failing (SEARCH_REBUILD_IN_BACKGROUND
    off, as in the tests: read at once)."""
    app = current_app._get_current_object()
    held: Nearest = app.extensions.setdefault("meaning", Nearest())
    if held.last_look is None and app.config.get("SEARCH_REBUILD_IN_BACKGROUND", True):
        with _starting:
            if not held.loading:
                held.loading = True
                threading.Thread(target=_first_look, args=(app, held), name="meaning-load", daemon=True).start()
        return held
    held.refresh(session, app.config.get("SEARCH_MEANING_REFRESH", 2.0))
    return held


def _first_look(app: Flask, held: Nearest) -> None:
    with app.app_context():
        try:
            held.refresh(db.session, 0.0)
        except Exception:  # the next search starts another look
            log.exception("search by meaning: reading the vectors failed; searching by words meanwhile")
        finally:
            held.loading = False
            db.session.remove()


def near_text(session: Session, text: str, limit: int, floor: float = -1.0,
              left_out: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, float]]:
    if not enabled() or not text.strip():
        return []
    return nearest(session).near(session, model.embed([text])[0], limit, floor, left_out)


def near_question(session: Session, question_id: int, limit: int, floor: float = -1.0,
                  left_out: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, float]]:
    if not enabled():
        return []
    held = nearest(session)
    vector = vector_of(session, question_id)
    if vector is None:
        return []
    return held.near(session, vector, limit, floor, set(left_out) | {question_id})
