"""A reader's question as they asked it, and what became of it.

An ask is not a question: it lives in its own table until an editor (or the asker's
trusted account) opens it, so nothing a reader types is public, searchable or in the
graph before then. Opening it makes an ordinary unanswered `Question`; `question_id`
then names that question, or the existing one it was merged into."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.answers.models import Category, Question
from webapp.clock import utcnow
from webapp.extensions import db

PENDING, OPEN, DECLINED, MERGED = "pending", "open", "declined", "merged"
STATES = (PENDING, OPEN, DECLINED, MERGED)
TEXT_MIN, TEXT_MAX = 10, 300  # question.text is String(300)
CONTEXT_MAX = 1000
REASON_MAX = 500


class Ask(db.Model):
    __tablename__ = "reader_question"
    __table_args__ = (
        CheckConstraint("state in ('pending', 'open', 'declined', 'merged')", name="reader_question_state"),
        Index("ix_reader_question_state_created", "state", "created_at"),
        Index("ix_reader_question_user_created", "user_id", "created_at"),
        Index("ix_reader_question_address_created", "address_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The form's idempotency key: the same form sent twice is one ask.
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(String(300))  # cleaned, one line; escaped wherever shown
    text_key: Mapped[str] = mapped_column(String(300), index=True)  # naming.text_key(text)
    context: Mapped[str | None] = mapped_column(Text)  # for the editors only
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # A keyed hash of the asker's address when logged out, for the per-day cap; never the address.
    address_key: Mapped[str | None] = mapped_column(String(64))
    # The asker as answer requests know them (graph.readers.reader_key): when the ask
    # opens, or joins a question, it counts as their request for an answer.
    requester: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    # Words of the site's word list the text contains: such an ask always waits for review.
    flagged: Mapped[str | None] = mapped_column(String(200))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))  # why it was declined, shown to the asker
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    category: Mapped[Category | None] = relationship()
    question: Mapped[Question | None] = relationship()
