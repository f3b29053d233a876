"""The reader's trail: the last questions visited in this visit, kept in the session."""
from __future__ import annotations

from flask import session
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.answers.models import Question

LENGTH = 10


def visit(slug: str) -> None:
    trail = [s for s in session.get("trail", []) if s != slug]
    session["trail"] = (trail + [slug])[-LENGTH:]


def clear() -> None:
    session.pop("trail", None)


def questions(db_session: Session) -> list[Question]:
    """The trail's questions, oldest first (ones deleted since are skipped)."""
    slugs = session.get("trail", [])
    if not slugs:
        return []
    found = {q.slug: q for q in db_session.scalars(select(Question).where(Question.slug.in_(slugs)))}
    return [found[s] for s in slugs if s in found]
