"""Engagement signals, privacy-first: counted per day in our own database, never sent
to a third party, never with an address or a reader id. A reader's repeat of the same
action on the same day (a reload, Back) is counted once; robots and cookie-less floods
are not counted at all (what counts as a reader: webapp/counting.py)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from webapp import counting
from webapp.answers.models import ANSWERED, Question
from webapp.graph.models import DailySignal

KINDS = ("view", "follow", "recentre", "request")
FOLLOW_THRESHOLD = 3  # follows before "Readers of this answer went on to read" shows a question


def record(engine: Engine, kind: str, question_id: int, from_id: int = 0, today: dt.date | None = None) -> bool:
    """Count one action; False if it was not counted (a repeat today, a robot, a flood
    from one address, or a database that cannot be written just now).

    In its own short transaction, so counting never commits (and expires) the page's
    own session in the middle of rendering it, and a failed count leaves that session
    as it was: the page renders all the same (issue 10, finding 8)."""
    today = today or dt.date.today()
    if not counting.first_time_today(f"{kind}:{question_id}:{from_id}", today):
        return False
    try:
        with Session(engine) as session:
            _count(session, kind, question_id, from_id, today)
    except SQLAlchemyError as error:
        counting.failed(kind, error)
        return False
    counting.succeeded(kind)
    return True


def _count(session: Session, kind: str, question_id: int, from_id: int, today: dt.date) -> None:
    where = (DailySignal.day == today, DailySignal.kind == kind, DailySignal.question_id == question_id,
             DailySignal.from_id == from_id)
    bump = update(DailySignal).where(*where).values(count=DailySignal.count + 1)
    if session.execute(bump).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(DailySignal(day=today, kind=kind, question_id=question_id, from_id=from_id))
        except IntegrityError:  # another request counted the first one
            session.execute(bump)
    session.commit()


def went_on_to_read(session: Session, question: Question, limit: int = 3) -> list[Question]:
    """Answers that readers of `question` followed most, once enough of them did."""
    n = func.sum(DailySignal.count)
    rows = session.execute(
        select(Question, n).join(DailySignal, DailySignal.question_id == Question.id)
        .where(DailySignal.kind == "follow", DailySignal.from_id == question.id, Question.status == ANSWERED)
        .group_by(Question.id).having(n >= FOLLOW_THRESHOLD).order_by(n.desc(), Question.text).limit(limit)
    ).all()
    return [q for q, _ in rows]


CANDIDATES = 100  # the most viewed questions that "most read" chooses among


def most_read(session: Session, days: int = 7, limit: int = 5, today: dt.date | None = None) -> list[Question]:
    """The answers viewed most in the last `days` days (ties by question, among the
    CANDIDATES most viewed): the views are summed by question first and only the best
    are joined to their questions, where joining every viewed question took 210 ms at
    1,000,000 questions (15,000 signal rows a week)."""
    today = today or dt.date.today()
    n = func.sum(DailySignal.count).label("n")
    viewed = (select(DailySignal.question_id, n)
              .where(DailySignal.kind == "view", DailySignal.day > today - dt.timedelta(days=days))
              .group_by(DailySignal.question_id).order_by(n.desc(), DailySignal.question_id)
              .limit(CANDIDATES).subquery())
    rows = session.execute(
        select(Question, viewed.c.n).join(viewed, viewed.c.question_id == Question.id)
        .where(Question.status == ANSWERED)
        .order_by(viewed.c.n.desc(), Question.text).limit(limit)
    ).all()
    return [q for q, _ in rows]
