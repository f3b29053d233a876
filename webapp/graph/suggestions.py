"""Suggested related questions: "Want to dive deeper?" filled up to five from the text.

Curated links (from the content files) come first, in file order; the rest are the
answered questions most like this one (the search engine's "similar answers").
They are stored as related links of kind "suggested" and recomputed when content
changes (`flask content import`, an editor's save, `flask graph suggest`), never per
request.

Rules:
- `flask graph suggest` recomputes every answer's, BATCH answers to a transaction, so
  a run over a million questions holds neither every question in memory nor one
  transaction open for hours, and an interrupted run keeps what it finished.
- An import recomputes only the answers its changes can move (`around`): the changed
  ones, those that suggest one of them now, and the NEIGHBOURS answers most like each
  changed answer, which may now suggest it. Recomputing all after every import took
  0.4-0.6 s an answer at 1,000,000 questions: days for one changed file. Word statistics
  that every change shifts a little move the rest only slightly; the scheduled
  `flask graph suggest` catches them (docs/deploy.md)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers import counts
from webapp.answers.models import ANSWERED, CURATED, SUGGESTED, Question, RelatedLink
from webapp.search import service as search

TARGET = 5  # entries in "Want to dive deeper?"
BATCH = 200  # answers to a transaction
# Answers most like a changed one whose suggestions are recomputed: twice the list's
# length, so one that had it just out of its top five is looked at too.
NEIGHBOURS = 2 * TARGET


def around(session: Session, changed: Iterable[int],
           progress: Callable[[int], None] | None = None) -> list[int] | None:
    """The answers whose suggestions a change to these questions can move, in id order;
    None when that may be half of them or more (recompute all). `progress` is told of
    each changed question looked around."""
    changed = sorted(set(changed))
    answered = set(session.scalars(select(Question.id).where(Question.id.in_(changed),
                                                             Question.status == ANSWERED)))
    if len(answered) * (NEIGHBOURS + 1) >= counts.answered_total(session) / 2:
        return None
    moved = set(answered)
    moved.update(session.scalars(select(RelatedLink.from_id).where(RelatedLink.to_id.in_(changed),
                                                                 RelatedLink.kind == SUGGESTED)))
    for question_id in changed:
        if question_id in answered:
            moved.update(search.similar_answered(session, question_id, set(), NEIGHBOURS))
        if progress:
            progress(1)
    return sorted(moved)


def refresh(session: Session, ids: Iterable[int] | None = None,
            progress: Callable[[int], None] | None = None) -> int:
    """Recompute the suggestions of the given answered questions (all, by default),
    committing every BATCH; the number recomputed."""
    if ids is None:
        wanted = list(session.scalars(select(Question.id).where(Question.status == ANSWERED).order_by(Question.id)))
    else:
        wanted = sorted(set(ids))
    changed = 0
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        questions = session.scalars(select(Question).where(Question.id.in_(batch), Question.status == ANSWERED)
                                    .order_by(Question.id).options(selectinload(Question.links))).all()
        for question in questions:
            _suggest(session, question)
            changed += 1
        session.commit()
        if progress:
            progress(len(batch))
    if not wanted:
        session.commit()  # the caller's pending changes are written, as when there are answers
    return changed


def _suggest(session: Session, question: Question) -> None:
    curated = [link for link in question.links if link.kind == CURATED]
    wanted = max(0, TARGET - len(curated))
    suggested = search.similar_answered(session, question.id, {link.to_id for link in curated}, wanted)
    session.execute(delete(RelatedLink).where(RelatedLink.from_id == question.id, RelatedLink.kind == SUGGESTED))
    for offset, target in enumerate(suggested, start=len(curated) + 1):
        session.add(RelatedLink(from_id=question.id, to_id=target, position=offset, kind=SUGGESTED))
