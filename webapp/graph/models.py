"""Readers asking for unanswered questions to be answered."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.answers.models import utcnow
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
