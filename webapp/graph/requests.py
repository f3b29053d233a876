"""Answer requests: one per reader per question, counted, and listed by demand."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from blinker import Namespace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.answers.models import UNANSWERED, Question
from webapp.graph.models import AnswerRequest

# Sent (session, question_id=, requester=) when a reader's request is added, in the same
# transaction: a feature above graph may act on it (following follows the question for
# an account) without graph knowing of it.
answer_requested = Namespace().signal("answer-requested")


def new_reader_token() -> str:
    return secrets.token_urlsafe(24)


def requester_key(token: str) -> str:
    """What is stored: a hash of the browser's random token, so the table identifies no one."""
    return "browser:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def count(session: Session, question: Question) -> int:
    return session.scalar(select(func.count()).select_from(AnswerRequest)
                          .where(AnswerRequest.question_id == question.id)) or 0


def has_requested(session: Session, question: Question, requester: str | None) -> bool:
    if not requester:
        return False
    return session.scalar(select(AnswerRequest.id).where(
        AnswerRequest.question_id == question.id, AnswerRequest.requester == requester)) is not None


def request_answer(session: Session, question: Question, requester: str) -> bool:
    """Record the request; False if this reader had already asked (nothing changes)."""
    try:
        with session.begin_nested():
            session.add(AnswerRequest(question_id=question.id, requester=requester))
    except IntegrityError:  # the savepoint is rolled back; the transaction goes on
        return False
    answer_requested.send(session, question_id=question.id, requester=requester)
    session.commit()
    return True


@dataclass
class Requested:
    question: Question
    count: int


def most_requested(session: Session, limit: int, offset: int = 0) -> list[Requested]:
    """Unanswered questions by demand, most requested first, then by question: read in
    order from ix_question_most_requested (the counters of webapp/graph/demand.py)."""
    rows = session.scalars(
        select(Question).where(Question.status == UNANSWERED, Question.request_count > 0)
        .order_by(Question.request_count.desc(), Question.text).limit(limit).offset(offset)
    ).all()
    return [Requested(question, question.request_count) for question in rows]


def requested_count(session: Session) -> int:
    """How many unanswered questions have at least one request (the index's entries)."""
    return session.scalar(select(func.count(Question.id))
                          .where(Question.status == UNANSWERED, Question.request_count > 0)) or 0


def widget(session: Session, question: Question, requester: str | None) -> dict:
    """What the "Request an answer" widget shows."""
    return dict(question=question, request_count=count(session, question),
                requested=has_requested(session, question, requester))
