"""How many readers asked for each question's answer, kept in `question.request_count`
so /requests and the desk read the most-requested unanswered questions from an index
(ix_question_most_requested) instead of grouping every request on every view.

Rules:
- The counter moves in the same flush as the requests that move it, as a delta
  (`request_count = request_count + n`): two readers asking at once both count, and a
  rolled-back transaction or savepoint takes its delta back with it. Every writer of
  AnswerRequest (graph's request button, asking's "ask and be told") is covered,
  because the counter follows the rows, not the code that adds them.
- The question row is updated by statement, not through the ORM: a request is not an
  edit of the question (no search document, content version or history moves).
- Writes that bypass the ORM (`flask demo synth`, the migration that added the column)
  call `recount` afterwards; `check` says whether the counters agree with the requests,
  and `flask graph recount` puts them right."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from webapp.answers.models import Question
from webapp.graph.models import AnswerRequest


def _after_flush(session: Session, _context) -> None:
    deltas: Counter[int] = Counter()
    for row in session.new:
        if isinstance(row, AnswerRequest):
            deltas[row.question_id] += 1
    for row in session.deleted:
        if isinstance(row, AnswerRequest):
            deltas[row.question_id] -= 1
    moved = sorted(q for q, n in deltas.items() if n)  # one order: no deadlock between writers
    if not moved:  # most flushes
        return
    connection = session.connection()
    for question_id in moved:
        connection.execute(update(Question).where(Question.id == question_id)
                           .values(request_count=Question.request_count + deltas[question_id])
                           .execution_options(synchronize_session=False))


def listen(session_class: type[Session] = Session) -> None:
    """Every session (the app's, and the plain ones commands open) keeps the counters."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)


def _true_counts():
    return (select(func.count(AnswerRequest.id)).where(AnswerRequest.question_id == Question.id)
            .scalar_subquery())


def recount(session: Session) -> int:
    """Every counter from the requests (after writes that bypassed the ORM): how many moved."""
    return session.execute(update(Question).where(Question.request_count != _true_counts())
                           .values(request_count=_true_counts())
                           .execution_options(synchronize_session=False)).rowcount


def check(session: Session) -> list[str]:
    """The questions whose counter disagrees with their requests, as sentences."""
    rows = session.execute(select(Question.slug, Question.request_count, _true_counts().label("counted"))
                           .where(Question.request_count != _true_counts()).order_by(Question.id)).all()
    return [f"{r.slug}: the counter says {r.request_count}, the requests {r.counted}" for r in rows]
