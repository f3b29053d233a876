"""Readers' reports of errors in answers, and what the editors made of them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.extensions import db

NEW, ACCEPTED, DECLINED, FIXED = "new", "accepted", "declined", "fixed"
STATES = (NEW, ACCEPTED, DECLINED, FIXED)
WHAT_MAX = 2000


class Report(db.Model):
    """"Report an error or suggest a source": what a reader says is wrong with an answer.
    Plain text, escaped wherever shown. `revision_id` is the revision that fixed it."""

    __tablename__ = "reader_report"
    __table_args__ = (
        CheckConstraint("state in ('new', 'accepted', 'declined', 'fixed')", name="report_state"),
        Index("ix_reader_report_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(2000))
    email: Mapped[str | None] = mapped_column(String(254))  # for a reply, when logged out
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default=NEW)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id"))
    editor_note: Mapped[str | None] = mapped_column(String(500))  # shown to the reader with the outcome
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    question: Mapped[Question] = relationship()
