"""The table of question vectors (both databases)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db


class QuestionMeaning(db.Model):
    """A question's vector: float16, DIMENSIONS of them, 256 bytes. No vector: the
    question was deleted (kept so that other processes see it go)."""

    __tablename__ = "question_meaning"

    question_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(64))  # digest of the text embedded
    # When it was written, by the writer's clock: processes re-read what changed after
    # their last look, less an overlap that covers slow transactions and clock skew.
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
