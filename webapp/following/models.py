"""Who follows which question, what changed in the questions followed, and the digests
that told them.

A change is recorded once, in the transaction that made it (a revision), and only for
a question someone follows. A digest covers one account's changes up to a change id:
it is written as `sending` before the message goes, and marked `sent` after, so a crash
in between leaves a `sending` digest that is never sent again (at most once)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.extensions import db

ANSWERED, RECHECKED, CORRECTED, UPDATED = "answered", "re-checked", "corrected", "updated"
CHANGE_KINDS = (ANSWERED, RECHECKED, CORRECTED, UPDATED)
SENDING, SENT, FAILED, UNKNOWN = "sending", "sent", "failed", "unknown"


class Follow(db.Model):
    __tablename__ = "question_follow"
    __table_args__ = (UniqueConstraint("user_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # When the follower last read the question's page: what changed after it is marked new.
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    question: Mapped[Question] = relationship()


class QuestionChange(db.Model):
    __tablename__ = "question_change"
    __table_args__ = (
        CheckConstraint("kind in ('answered', 're-checked', 'corrected', 'updated')", name="question_change_kind"),
        Index("ix_question_change_question_id_id", "question_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    revision_number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class FollowSettings(db.Model):
    """An account's following settings: its private feed's token, and whether it wants
    the daily email (one row per account, made when it first follows)."""

    __tablename__ = "follow_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    email_digest: Mapped[bool] = mapped_column(Boolean, default=True)


class Digest(db.Model):
    __tablename__ = "follow_digest"
    __table_args__ = (
        CheckConstraint("status in ('sending', 'sent', 'failed', 'unknown')", name="follow_digest_status"),
        # One row per account and first change: of two runs at once, one writes it and sends.
        UniqueConstraint("user_id", "first_change_id"),
        Index("ix_follow_digest_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The changes it tells of: those of the account's questions with first_change_id <= id <= last_change_id.
    first_change_id: Mapped[int] = mapped_column(Integer)
    last_change_id: Mapped[int] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default=SENDING)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
