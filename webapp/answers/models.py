"""Typed models for questions, answers, sources, categories and related links."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db

ANSWERED = "answered"
UNANSWERED = "unanswered"
CURATED = "curated"  # a related link written in a content file
SUGGESTED = "suggested"  # computed from the text to fill "Want to dive deeper?"
CONTENT_VERSION_ID = 1  # the one row of content_version


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Its answered questions, kept by webapp/answers/counts.py.
    answered_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    questions: Mapped[list[Question]] = relationship(back_populates="category")


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (
        CheckConstraint("status in ('answered', 'unanswered')", name="question_status"),
        # A category's page: its answers, newest checked first, read backwards from here
        # without sorting them all.
        Index("ix_question_category_listing", "category_id", "status", "checked_on", "id"),
        # The desk's related-question finder matches any part of a word (`text_key LIKE
        # '%word%'`), which no B-tree serves: at 1,000,000 questions it read them all, 2.0 s
        # a search. A trigram index finds the rows holding each word's three-letter pieces.
        # PostgreSQL only (pg_trgm, created before the table below); SQLite reads the table.
        Index("ix_question_text_trigrams", "text_key", postgresql_using="gin",
              postgresql_ops={"text_key": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    text: Mapped[str] = mapped_column(String(300))
    # Lower-cased, spaces folded, end punctuation dropped: how related strings match.
    text_key: Mapped[str] = mapped_column(String(300), index=True)
    status: Mapped[str] = mapped_column(String(12), default=UNANSWERED, index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    checked_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # The claim an answer checks (content format: claim, verdict, claimant, claim_date):
    # the statement as people say it, its rating, who said it and when, where known.
    claim: Mapped[str | None] = mapped_column(String(300))
    verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    claimant: Mapped[str | None] = mapped_column(String(120))
    claim_date: Mapped[dt.date | None] = mapped_column(Date)
    # The day of the last revision that was a correction (the desk sets it): the page says
    # "Corrected on …" beside "Checked on" for a while after.
    corrected_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set for questions that came from a content file; export writes only those.
    file_name: Mapped[str | None] = mapped_column(String(255))
    # Front-matter keys as the file had them, so export writes the same keys back.
    file_keys: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # How many readers asked for an answer: kept by webapp/graph/demand.py with each
    # request, so /requests and the desk read the most-requested from an index instead
    # of counting every request (migration 0021 filled it).
    request_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    category: Mapped[Category | None] = relationship(back_populates="questions")
    sections: Mapped[list[Section]] = relationship(
        back_populates="question", order_by="Section.position", cascade="all, delete-orphan"
    )
    sources: Mapped[list[Source]] = relationship(
        back_populates="question", order_by="Source.number", cascade="all, delete-orphan"
    )
    links: Mapped[list[RelatedLink]] = relationship(
        foreign_keys="RelatedLink.from_id",
        back_populates="from_question",
        order_by="RelatedLink.position",
        cascade="all, delete-orphan",
    )

    @property
    def answered(self) -> bool:
        return self.status == ANSWERED

    @property
    def curated_links(self) -> list[RelatedLink]:
        return [link for link in self.links if link.kind == CURATED]


# The most-requested unanswered questions in /requests' order, read from the front: only
# questions someone asked for are in it (a few of all), and answering one takes it out.
_REQUESTED = "status = 'unanswered' AND request_count > 0"
Index("ix_question_most_requested", Question.request_count.desc(), Question.text,
      postgresql_where=sql(_REQUESTED), sqlite_where=sql(_REQUESTED))
# ix_question_text_trigrams' operators; migration 0024 creates it for databases it upgrades.
event.listen(Question.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


class Section(db.Model):
    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("question_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)

    question: Mapped[Question] = relationship(back_populates="sections")


class Source(db.Model):
    __tablename__ = "source"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2000))
    publisher: Mapped[str | None] = mapped_column(String(300))
    published: Mapped[dt.date | None] = mapped_column(Date)

    question: Mapped[Question] = relationship(back_populates="sources")


class RelatedLink(db.Model):
    """An ordered "Want to dive deeper?" entry from one question to another."""

    __tablename__ = "related_link"
    __table_args__ = (
        # Both ends in each index, so a walk over the links reads indexes alone
        # (webapp/graph/chains.py); the unique one serves lookups by from_id.
        UniqueConstraint("from_id", "to_id"),
        Index("ix_related_link_to_from", "to_id", "from_id"),
        CheckConstraint("from_id <> to_id", name="related_not_self"),
        CheckConstraint("kind in ('curated', 'suggested')", name="related_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    # The plain question text the file used, or None where it named a slug.
    written_as: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(12), default=CURATED, server_default=CURATED)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    from_question: Mapped[Question] = relationship(foreign_keys=[from_id], back_populates="links")
    to_question: Mapped[Question] = relationship(foreign_keys=[to_id])


class ContentVersion(db.Model):
    """One row (id 1) whose token is written again, in the same transaction, by every
    change to what answer pages show: questions, sections, sources, categories and
    related links (webapp/answers/cache.py). Every app server reads it, so it keys the
    answer bodies they share in the cache. A random token rather than a counter: a
    database restored from a backup, or another database beside the same Redis, never
    meets a key that was rendered from something else."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
