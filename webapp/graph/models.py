"""Readers asking for unanswered questions to be answered, and the questions' PageRank."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db


class AnswerRequest(db.Model):
    """One reader's request for one question; the requester is an opaque key
    (a random per-browser token's hash, or an account later), never an address."""

    __tablename__ = "answer_request"
    __table_args__ = (UniqueConstraint("question_id", "requester"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    requester: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DailySignal(db.Model):
    """Counted reader actions, one row per day, kind and question pair: no readers,
    no addresses, no timestamps finer than a day. Kinds: view, follow, recentre, request."""

    __tablename__ = "daily_signal"
    __table_args__ = (
        UniqueConstraint("day", "kind", "question_id", "from_id"),
        # "Readers of this answer went on to read" looks follows up by where they came from.
        Index("ix_daily_signal_from", "from_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(12))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    # For a follow: the answer the reader came from (0 where there is none).
    from_id: Mapped[int] = mapped_column(Integer, default=0)
    count: Mapped[int] = mapped_column(Integer, default=1)


class QuestionRank(db.Model):
    """A question's PageRank over the related links, as `flask graph rank` last
    computed it (webapp/graph/ranking.py): pages read the top few by the index."""

    __tablename__ = "question_rank"
    # Partial: a few hundred rows of a million, so the planner takes it whatever its
    # statistics say (with a plain index and the statistics of before a ranking, it read
    # both tables whole: 3.4 s).
    __table_args__ = (Index("ix_question_rank_place", "place", postgresql_where=text("place IS NOT NULL"),
                            sqlite_where=text("place IS NOT NULL")),)

    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[float] = mapped_column(Float, index=True)
    # Its place among its category's answers by rank (1: the most central), for the
    # first PLACES_KEPT of each category; NULL for the rest. /explore reads every
    # category's hubs in one query through this, not one query per category.
    place: Mapped[int | None] = mapped_column(Integer)
