"""Reader accounts."""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db


class User(UserMixin, db.Model):
    """An account. A deleted account keeps only its row number, so the pledges it made
    stay counted; everything that named a person is wiped."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased; NULL once the account is deleted (many NULLs may coexist).
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    # Part of the id flask-login keeps in the session and the remember cookie: a new
    # one at logout and password change makes every earlier cookie worthless.
    session_token: Mapped[str] = mapped_column(String(64))
    is_editor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # When the owner followed the link mailed to the address; until then the account
    # cannot log in (and a new registration may replace it once its link has expired).
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None
