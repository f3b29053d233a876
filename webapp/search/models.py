"""Tables that search keeps in the database: the outbox and the content-gap log."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.search.postgres import schema as _postgres_tables  # noqa: F401  (created with the models)
from webapp.search.meaning import models as _meaning_table  # noqa: F401  (created with the models)


class SearchOutbox(db.Model):
    """A question whose search document must be rewritten (or removed, if it is gone).

    Written in the same transaction as the change, so a rolled-back change leaves no
    row and a committed one always leaves one until the index has taken it."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    question_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SearchGap(db.Model):
    """A normalised query that found nothing: what readers look for and we lack."""

    __tablename__ = "search_gap"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
