"""An answer's history: every saved state of it, who saved it, why, and of what kind."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.extensions import db

CORRECTION, UPDATE, RECHECK = "correction", "update", "re-check"
KINDS = (CORRECTION, UPDATE, RECHECK)
KIND_LABELS = {CORRECTION: "Correction", UPDATE: "Update", RECHECK: "Re-check"}
NOTE_MAX = 200


class Revision(db.Model):
    """One saved state of a question, numbered 1, 2, … per question. `number` is the
    optimistic-concurrency token of the editing form: a save based on revision n writes
    n + 1, and UNIQUE(question_id, number) lets only one of two racing saves do so."""

    __tablename__ = "revision"
    __table_args__ = (
        UniqueConstraint("question_id", "number"),
        CheckConstraint("kind in ('correction', 'update', 're-check')", name="revision_kind"),
        Index("ix_revision_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(NOTE_MAX))  # one line, required: why it changed
    # Who saved it; none for the importer (the note names the file).
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The whole answer as a content file (docs/content-format.md) after this revision:
    # what the diff compares and what a conflicting save is merged against.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    question: Mapped[Question] = relationship()
