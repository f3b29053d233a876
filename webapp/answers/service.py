"""Reading questions and answers: plain values and a session in, models out."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import (
    ANSWERED,
    CONTENT_VERSION_ID,
    Category,
    ContentVersion,
    Question,
    RelatedLink,
    Section,
)
from webapp.answers.markdown import SourceRef
from webapp.pagination import Page, paginate

NO_QUESTION = "We have no question at this address."  # the 404 of every page about one question


_WHOLE_QUESTION = (
    selectinload(Question.sections),
    selectinload(Question.sources),
    selectinload(Question.category),
    selectinload(Question.links).selectinload(RelatedLink.to_question),
)


def question_by_slug(session: Session, slug: str) -> Question | None:
    if "\x00" in slug:  # no slug holds one, and PostgreSQL refuses the text outright (a 500)
        return None
    return session.scalar(select(Question).where(Question.slug == slug).options(*_WHOLE_QUESTION))


def question_by_id(session: Session, question_id: int) -> Question | None:
    """By id: a page that read the question a moment ago finds it renamed, too."""
    return session.scalar(select(Question).where(Question.id == question_id).options(*_WHOLE_QUESTION))


def question_and_version(session: Session, slug: str) -> tuple[Question | None, str | None]:
    """The question alone (what every request needs; the rest comes from the cache) and
    the content version (webapp/answers/cache.py), read together in one statement, so
    whatever is read after them is at least as new as the version."""
    row = session.execute(_QUESTION_AND_VERSION, {"slug": slug}).first()
    return (row[0], row[1]) if row else (None, None)


# Built once: on every page view, building the statement cost as much as running it.
_QUESTION_AND_VERSION = (
    select(Question, ContentVersion.token)
    .outerjoin(ContentVersion, ContentVersion.id == CONTENT_VERSION_ID)
    .where(Question.slug == bindparam("slug"))
)


def section_of(session: Session, slug: str, position: int) -> Section | None:
    return session.scalar(
        select(Section)
        .join(Question)
        .where(Question.slug == slug, Question.status == ANSWERED, Section.position == position)
        .options(selectinload(Section.question).selectinload(Question.sources))
    )


def source_refs(question: Question) -> list[SourceRef]:
    """What citation tooltips need, in citation order."""
    return [SourceRef(s.title, s.publisher) for s in question.sources]


def linked_from(session: Session, question: Question) -> list[Question]:
    """Answered questions whose "Want to dive deeper?" lists this one."""
    # Driven from the links to this question (a subquery), not from all answered
    # questions: without statistics SQLite chose the latter, 25 ms at 100,000 questions.
    sources = select(RelatedLink.from_id).where(RelatedLink.to_id == question.id)
    return list(
        session.scalars(
            select(Question)
            .where(Question.id.in_(sources), Question.status == ANSWERED)
            .order_by(Question.text)
        )
    )


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier, or the month's last day where it has none (29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def is_outdated(question: Question, today: dt.date, after_months: int) -> bool:
    """Checked longer ago than `after_months` calendar months."""
    return bool(question.checked_on) and question.checked_on < months_before(today, after_months)


def recent_answers_query(limit: int) -> Select:
    # Not NULL: read backwards, the index on checked_on starts with its NULLs (the
    # unanswered questions, 100,000 rows at 1,000,000: 600 ms to pass them).
    return (select(Question)
            .where(Question.status == ANSWERED, Question.checked_on.is_not(None))
            .options(selectinload(Question.category))
            .order_by(Question.checked_on.desc(), Question.id.desc())
            .limit(limit))


def recent_answers(session: Session, limit: int) -> list[Question]:
    return list(session.scalars(recent_answers_query(limit)))


def categories_with_counts(session: Session) -> list[tuple[Category, int]]:
    """Categories that have answers, with how many, largest first (webapp/answers/counts.py
    keeps the counts)."""
    rows = session.execute(
        select(Category, Category.answered_count)
        .where(Category.answered_count > 0)
        .order_by(Category.answered_count.desc(), Category.name)
    )
    return [(category, n) for category, n in rows]


def category_by_slug(session: Session, slug: str) -> Category | None:
    return session.scalar(select(Category).where(Category.slug == slug))


def category_page(session: Session, category: Category, number: int, size: int) -> Page | None:
    """Answered questions of a category, newest checked first (then newest added); None
    past the last page. The order is ix_question_category_listing's, read backwards."""
    answered = (select(Question).where(Question.category_id == category.id, Question.status == ANSWERED)
                .order_by(Question.checked_on.desc(), Question.id.desc()))
    return paginate(session, answered, number, size, total=category.answered_count)
