"""The reader's trail: the last questions visited in this visit, kept in the session."""
from __future__ import annotations

from flask import session
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from webapp.accounts.sessions import keep_over_login
from webapp.answers.models import Question

LENGTH = 10
KEY = "trail"
keep_over_login(KEY)  # logging in in the middle of a visit does not lose the path


def visit(slug: str) -> None:
    trail = [s for s in session.get(KEY, []) if s != slug]
    session[KEY] = (trail + [slug])[-LENGTH:]


def clear() -> None:
    session.pop(KEY, None)


def questions(db_session: Session) -> list[Row]:
    """The trail's questions (their slug and text), oldest first; ones deleted since are
    skipped. Read on every answer page, so only the two columns the path shows."""
    slugs = session.get(KEY, [])
    if not slugs:
        return []
    found = {row.slug: row for row in db_session.execute(
        select(Question.slug, Question.text).where(Question.slug.in_(slugs)))}
    return [found[s] for s in slugs if s in found]
