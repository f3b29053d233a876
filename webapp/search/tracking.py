"""Which questions a transaction changed, handed to the search engine in that transaction.

Every flush tells the app's engine which questions it touched (a question itself, one
of its sections or sources, or its category's name), while the transaction is still
open, so the engine records them with the change or not at all: the Whoosh engine
writes outbox rows, the PostgreSQL engine rewrites the documents themselves. After
the commit the engine may act on what it recorded (Whoosh drains its outbox).

Only changes made through the ORM are seen; bulk Core writes (`flask demo synth`)
rebuild the engine's documents afterwards instead."""
from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from webapp.answers.models import Category, Question, Section, Source

PENDING = "search_pending_ids"


def _touched_question_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Question) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Section | Source) and obj.question_id is not None:
            ids.add(obj.question_id)
        elif isinstance(obj, Category) and obj.id is not None and _renamed(obj):
            ids.update(session.connection().scalars(select(Question.id).where(Question.category_id == obj.id)))
    return ids


def _renamed(category: Category) -> bool:
    """Whether what a document holds of its category changed. Not "is it dirty": a new
    question put in a category makes the category dirty (its `questions` collection),
    and every question of it had its document rewritten on each new one (at 1,000,000
    questions, 45,252 documents and 19 minutes for one imported file)."""
    return any(inspect(category).attrs[name].history.has_changes() for name in ("slug", "name"))


def _engine():
    return current_app.extensions["search"] if has_app_context() else None


def _after_flush(session: Session, _context) -> None:
    engine = _engine()
    touched = _touched_question_ids(session)
    if engine is None or not touched:
        return
    pending: set[int] = session.info.setdefault(PENDING, set())
    engine.changed(session, touched, already=frozenset(pending))
    pending.update(touched)


def _after_commit(session: Session) -> None:
    # SQLAlchemy calls this when a savepoint (begin_nested) is released too: the
    # transaction is still open, and its changes are not visible to a drain yet.
    if session.in_nested_transaction():
        return
    if not session.info.pop(PENDING, None):
        return
    engine = _engine()
    if engine is not None:
        engine.committed(session)


def _after_rollback(session: Session, previous) -> None:
    # A savepoint rolled back leaves the outer transaction's earlier changes to commit.
    if not previous.nested:
        session.info.pop(PENDING, None)


def listen(session_class: type[Session]) -> None:
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", _after_rollback)
