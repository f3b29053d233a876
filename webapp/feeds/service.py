"""What the feeds and the sitemap list: a session and plain values in, rows out.

Every feed query has a LIMIT and walks an index (100,000 questions is the benchmark
size). The sitemap must name every answered question, so it reads them by id in keyset
batches: memory stays one batch, however many there are."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers import counts
from webapp.answers.models import ANSWERED, CONTENT_VERSION_ID, Category, ContentVersion, Question
from webapp.revisions import service as revisions
from webapp.revisions.models import CORRECTION, KINDS, Revision

UTC = dt.timezone.utc
# Rows read at a time while looking for the answers checked or revised last, as a
# multiple of the feed's length (one answer revised many times takes several rows; a
# question no longer answered is passed over), and how many such reads at most.
SCAN_FACTOR = 4
SCAN_ROUNDS = 5


# --- what a feed's validators are made of ----------------------------------------------------

@dataclass(frozen=True)
class Freshness:
    """What the feeds are drawn from, in two primary-key reads: the content version
    (webapp/answers/cache.py; every change to questions and categories writes it again)
    and the newest revision (revisions are only ever added; an answer re-checked on the
    day it was last checked changes no question row, but adds one)."""

    token: str | None
    changed_at: dt.datetime | None  # UTC, when content last changed
    revision: int  # the newest revision's id; 0 before the first

    @property
    def key(self) -> str:
        return f"{self.token or '-'}:{self.revision}"


def freshness(session: Session) -> Freshness:
    row = session.execute(select(ContentVersion.token, ContentVersion.changed_at)
                          .where(ContentVersion.id == CONTENT_VERSION_ID)).first()
    newest = session.scalar(select(func.max(Revision.id))) or 0
    return Freshness(row.token if row else None, aware(row.changed_at) if row and row.changed_at else None, newest)


def aware(moment: dt.datetime) -> dt.datetime:
    """A time as the database keeps it (UTC, without a zone) made explicit."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=UTC)


# --- new and re-checked answers ---------------------------------------------------------------

@dataclass(frozen=True)
class AnswerEntry:
    question: Question  # with its category and sources loaded
    updated: dt.datetime  # the later of "Checked on" and its last revision (UTC)


def updated(checked_on: dt.date | None, revised: dt.datetime | None, created_at: dt.datetime) -> dt.datetime:
    """When an answer last changed for a reader: checked again (a date: its first moment,
    UTC) or revised (a correction, an update, a re-check, an import that changed it),
    whichever is later; its creation if neither is known."""
    moments = [start_of(checked_on)] if checked_on else []
    if revised is not None:
        moments.append(aware(revised))
    return max(moments) if moments else aware(created_at)


def answer_entries(session: Session, limit: int, category_id: int | None = None) -> list[AnswerEntry]:
    """The `limit` answered questions (of one category, if given) updated last, newest
    first. The candidates are the newest by "Checked on" and the newest by revision, each
    read by index with a LIMIT; any answer among the newest `limit` by the later of the
    two is among one of those lists."""
    ids = set(_newest_checked(session, limit, category_id))
    ids |= set(_newest_revised(session, limit) if category_id is None
               else _newest_revised_in(session, limit, category_id))
    if not ids:
        return []
    revised = dict(session.execute(select(Revision.question_id, func.max(Revision.created_at))
                                   .where(Revision.question_id.in_(ids)).group_by(Revision.question_id)).all())
    rows = session.execute(select(Question.id, Question.checked_on, Question.created_at)
                           .where(Question.id.in_(ids))).all()
    ranked = sorted(((updated(checked_on, revised.get(qid), created_at), qid) for qid, checked_on, created_at in rows),
                    reverse=True)[:limit]
    if not ranked:
        return []
    loaded = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_([qid for _, qid in ranked]))
                                              .options(selectinload(Question.category),
                                                       selectinload(Question.sources)))}
    return [AnswerEntry(loaded[qid], moment) for moment, qid in ranked if qid in loaded]


def _newest_checked(session: Session, limit: int, category_id: int | None) -> list[int]:
    """The answered questions checked last, by "Checked on". The rows are read in that
    order (ix_question_checked_on; within a category, ix_question_category_id as its page
    does) and their status is looked at as they come: with `status = 'answered'` in the
    query, SQLite would rather read every answered question through ix_question_status and
    sort them all. As a rule only answered questions carry a date, so few rows are passed over."""
    found: list[int] = []
    after: tuple[dt.date, int] | None = None
    batch = limit * SCAN_FACTOR
    for _ in range(SCAN_ROUNDS):
        query = select(Question.id, Question.checked_on, Question.status).where(Question.checked_on.is_not(None))
        if category_id is not None:
            query = query.where(Question.category_id == category_id)
        if after is not None:
            query = query.where(or_(Question.checked_on < after[0],
                                    and_(Question.checked_on == after[0], Question.id < after[1])))
        rows = session.execute(query.order_by(Question.checked_on.desc(), Question.id.desc()).limit(batch)).all()
        found += [question_id for question_id, _day, status in rows if status == ANSWERED]
        if len(found) >= limit or len(rows) < batch:
            break
        after = (rows[-1].checked_on, rows[-1].id)
    return found[:limit]


def _newest_revised(session: Session, limit: int) -> list[int]:
    """The answered questions revised last, site-wide: for each kind, its newest
    revisions (ix_revision_kind_created, read backwards with a LIMIT) until `limit`
    different questions are found. An answer whose last revision is of kind k and is
    among the newest `limit` overall is among the newest `limit` of kind k."""
    found: list[int] = []
    for kind in KINDS:
        seen: set[int] = set()
        after: tuple[dt.datetime, int] | None = None
        batch = limit * SCAN_FACTOR
        for _ in range(SCAN_ROUNDS):
            query = (select(Revision.question_id, Revision.created_at, Revision.id)
                     .join(Question, Question.id == Revision.question_id)
                     .where(Revision.kind == kind, Question.status == ANSWERED))
            if after is not None:
                query = query.where(or_(Revision.created_at < after[0],
                                        and_(Revision.created_at == after[0], Revision.id < after[1])))
            rows = session.execute(query.order_by(Revision.created_at.desc(), Revision.id.desc()).limit(batch)).all()
            for question_id, _at, _id in rows:
                if question_id not in seen:
                    seen.add(question_id)
                    found.append(question_id)
            if len(seen) >= limit or len(rows) < batch:
                break
            after = (rows[-1].created_at, rows[-1].id)
    return found


def _newest_revised_in(session: Session, limit: int, category_id: int) -> list[int]:
    """The answered questions of one category revised last: from the category's questions
    (ix_question_category_id) to their revisions (ix_revision_question_id), so a small
    category costs little however many revisions the site has."""
    latest = func.max(Revision.created_at)
    return list(session.scalars(select(Revision.question_id)
                                .join(Question, Question.id == Revision.question_id)
                                .where(Question.status == ANSWERED, Question.category_id == category_id)
                                .group_by(Revision.question_id)
                                .order_by(latest.desc(), Revision.question_id.desc()).limit(limit)))


# --- corrections ------------------------------------------------------------------------------

def correction_entries(session: Session, limit: int) -> list[revisions.Entry]:
    """The newest corrections (ix_revision_kind_created), each with its question and the
    revision before it (for "what changed")."""
    shown = list(session.scalars(select(Revision).where(Revision.kind == CORRECTION)
                                 .order_by(Revision.created_at.desc(), Revision.id.desc()).limit(limit)
                                 .options(selectinload(Revision.question))))
    return revisions.described(session, shown)


def newest_correction(session: Session) -> dt.datetime | None:
    found = session.scalar(select(Revision.created_at).where(Revision.kind == CORRECTION)
                           .order_by(Revision.created_at.desc()).limit(1))
    return aware(found) if found else None


# --- the sitemap ------------------------------------------------------------------------------

def answered_count(session: Session) -> int:
    """Every answered question: the sitemap names them all (from the categories' counters,
    not a count of ~900,000 rows at 1,000,000 questions)."""
    return counts.answered_total(session)


def newest_checked_on(session: Session) -> dt.date | None:
    """The newest "Checked on" of an answered question (read as _newest_checked reads them)."""
    newest = _newest_checked(session, 1, None)
    return session.scalar(select(Question.checked_on).where(Question.id == newest[0])) if newest else None


def listed_categories(session: Session) -> list[str]:
    """The slugs of the categories that have an answer (each found by ix_question_category_id)."""
    has_answer = (select(Question.id).where(Question.category_id == Category.id, Question.status == ANSWERED)
                  .exists())
    return list(session.scalars(select(Category.slug).where(has_answer).order_by(Category.slug)))


def answered_batches(session: Session, offset: int, count: int, batch: int) -> Iterator[list[tuple[str, dt.date | None]]]:
    """(slug, checked_on) of `count` answered questions in id order, from the `offset`-th:
    batches of at most `batch`, each one query that starts after the last id of the one
    before (keyset), so no batch reads what an earlier one did."""
    if count <= 0:
        return
    first = session.scalar(select(Question.id).where(Question.status == ANSWERED)
                           .order_by(Question.id).offset(offset).limit(1))
    if first is None:
        return
    after, left = first - 1, count
    while left > 0:
        rows = session.execute(select(Question.id, Question.slug, Question.checked_on)
                               .where(Question.status == ANSWERED, Question.id > after)
                               .order_by(Question.id).limit(min(batch, left))).all()
        if not rows:
            return
        yield [(slug, checked_on) for _id, slug, checked_on in rows]
        left -= len(rows)
        after = rows[-1].id
