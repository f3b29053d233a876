"""How many answers each category has, kept in `category.answered_count` so the home
page and category pages read a few category rows instead of counting every question
(at 1,000,000 questions, counting took a scan of ~900,000 rows per request).

Rules:
- A counter moves in the same flush as the question rows that move it, as a delta
  (`answered_count = answered_count + n`), so two writers in one category add up and a
  rolled-back transaction or savepoint takes its deltas back with it.
- The state a flush started from is read from the database just before it (not from
  the ORM's attribute history, which does not keep old values it never loaded): the
  counters always describe what the database held, flush after flush.
- Writes that bypass the ORM (`flask demo synth`'s COPY, the migration that added the
  column) call `recount` afterwards; `check` says whether the counters agree with the
  questions, and `flask content recount` puts them right."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Category, Question

BEFORE = "answers.counts.before"  # session.info: {question id: (category id, status)} before the flush
COUNTED = ("status", "category_id", "category")  # the attributes that can move a counter


def _moves_a_counter(session: Session, question: Question) -> bool:
    """A stored question this flush deletes, or moves between answered and not or
    between categories."""
    state = inspect(question)
    return state.persistent and (question in session.deleted
                                 or any(state.attrs[name].history.has_changes() for name in COUNTED))


def _before_flush(session: Session, _context, _instances) -> None:
    ids = [q.id for q in (*session.dirty, *session.deleted) if isinstance(q, Question) and _moves_a_counter(session, q)]
    if not ids:
        return
    with session.no_autoflush:
        rows = session.execute(select(Question.id, Question.category_id, Question.status)
                               .where(Question.id.in_(ids))).all()
    session.info[BEFORE] = {row.id: (row.category_id, row.status) for row in rows}


def _after_flush(session: Session, _context) -> None:
    before = session.info.pop(BEFORE, {})
    deltas: Counter[int] = Counter()
    for question in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(question, Question) or (question not in session.new and question.id not in before):
            continue
        old_category, old_status = before.get(question.id, (None, None))
        if old_status == ANSWERED and old_category is not None:
            deltas[old_category] -= 1
        if question not in session.deleted and question.status == ANSWERED and question.category_id is not None:
            deltas[question.category_id] += 1
    moved = sorted(c for c, n in deltas.items() if n)  # one order: no deadlock between writers
    if not moved:  # most flushes: nothing to write
        return
    connection = session.connection()
    for category_id in moved:
        connection.execute(update(Category).where(Category.id == category_id)
                           .values(answered_count=Category.answered_count + deltas[category_id]))


def listen(session_class: type[Session] = Session) -> None:
    """Every session (the app's, and the plain ones commands open) keeps the counters."""
    for name, handler in (("before_flush", _before_flush), ("after_flush", _after_flush)):
        if not event.contains(session_class, name, handler):
            event.listen(session_class, name, handler)


def answered_total(session: Session) -> int:
    """Every answered question: the categories' counters, and the few answers without a
    category counted (ix_question_category_listing: category_id NULL comes first)."""
    counted = session.scalar(select(func.coalesce(func.sum(Category.answered_count), 0))) or 0
    loose = session.scalar(select(func.count(Question.id)).where(Question.category_id.is_(None),
                                                                 Question.status == ANSWERED)) or 0
    return counted + loose


def _true_counts():
    return (select(func.count(Question.id)).where(Question.category_id == Category.id, Question.status == ANSWERED)
            .scalar_subquery())


def recount(session: Session) -> None:
    """Every category's counter from its questions (after writes that bypassed the ORM)."""
    session.execute(update(Category).values(answered_count=_true_counts()))


def check(session: Session) -> list[str]:
    """The categories whose counter disagrees with their questions, as sentences."""
    rows = session.execute(select(Category.slug, Category.answered_count, _true_counts().label("counted"))
                           .order_by(Category.slug)).all()
    return [f"{r.slug}: the counter says {r.answered_count}, the questions {r.counted}"
            for r in rows if r.answered_count != r.counted]
