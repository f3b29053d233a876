"""Accounts: register, authenticate, change password, delete. Plain values in, no request."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.accounts import passwords
from webapp.accounts.models import User
from webapp.clock import utcnow

# Other features forget what they keep about a deleted account (support anonymises pledges).
account_deleted = Namespace().signal("account-deleted")

# The same answer for an unknown address and a wrong password: it tells no one who has an account.
WRONG_LOGIN = "That email address and password do not match an account."
MAX_EMAIL = 254
MAX_NAME = 80


class AccountError(ValueError):
    """Input that cannot make or change an account; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def normalized_email(email: str) -> str:
    return email.strip().lower()


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def user_by_id(session: Session, user_id: str) -> User | None:
    """The user a session or remember cookie names, if that cookie is still good."""
    number, _, token = user_id.partition(":")
    if not number.isdigit() or not token:
        return None
    user = session.get(User, int(number))
    if user is None or not user.is_active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def user_by_email(session: Session, email: str) -> User | None:
    email = normalized_email(email)
    if len(email) > MAX_EMAIL or not email.isprintable():  # could never have been stored
        return None  # (and PostgreSQL refuses a NUL byte even in a query)
    return session.scalar(select(User).where(User.email == email))


def _check_email(email: str) -> str:
    email = normalized_email(email)
    local, at, domain = email.partition("@")
    if (not at or not local or "." not in domain or len(email) > MAX_EMAIL
            or not email.isprintable() or any(c.isspace() for c in email)):
        raise AccountError("email", "Enter an email address like name@example.org.")
    return email


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise AccountError("display_name", f"Enter a name of 1 to {MAX_NAME} characters.")
    return name


# What registering found, for the mail it leads to. The reader is answered alike in
# every case, so that registering tells no one which addresses have accounts.
NEW, UNCONFIRMED, EXISTING = "new", "unconfirmed", "existing"


@dataclass
class Registration:
    outcome: str  # NEW: an account waiting for its link; UNCONFIRMED, EXISTING: untouched
    user: User


def register(session: Session, email: str, display_name: str, password: str, *, link_lifetime: dt.timedelta,
             now: dt.datetime | None = None) -> Registration:
    """An unconfirmed account for a new address. An address that has an account keeps it
    as it is; one whose account was never confirmed and whose link has expired is given
    to the new registration (so no one can hold an address by registering it first)."""
    email, display_name = _check_email(email), _check_name(display_name)
    if problem := passwords.problem(password, email=email, name=display_name):
        raise AccountError("password", problem)
    password_hash = passwords.hashed(password)  # in every case, so that all take as long
    now = now or utcnow()
    user = user_by_email(session, email)
    if user is not None and (user.is_confirmed or user.created_at > now - link_lifetime):
        return Registration(EXISTING if user.is_confirmed else UNCONFIRMED, user)
    if user is None:
        user = User(email=email)
        session.add(user)
    # A lapsed unconfirmed account is started afresh: its new token kills its old links.
    user.display_name, user.password_hash, user.session_token = display_name, password_hash, new_session_token()
    user.created_at, user.confirmed_at = now, None
    try:
        session.commit()
    except IntegrityError:  # the same address registered a moment ago
        session.rollback()
        user = user_by_email(session, email)
        if user is None:  # (and deleted since)
            raise
        return Registration(EXISTING if user.is_confirmed else UNCONFIRMED, user)
    return Registration(NEW, user)


def confirm(session: Session, user: User) -> None:
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
        session.commit()


def create_confirmed(session: Session, email: str, display_name: str, password: str) -> User:
    """An account ready to use at once, for whoever runs the site (`flask accounts create`, tests)."""
    registration = register(session, email, display_name, password, link_lifetime=dt.timedelta(0))
    if registration.outcome != NEW:
        raise AccountError("email", "An account with this email address exists already.")
    confirm(session, registration.user)
    return registration.user


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        passwords.matches(passwords.dummy_hash(), password)  # the same time either way
        return None
    return user if passwords.matches(user.password_hash, password) else None


def end_sessions(session: Session, user: User) -> None:
    """Every session and remember cookie issued so far stops working."""
    user.session_token = new_session_token()
    session.commit()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not passwords.matches(user.password_hash, current):
        raise AccountError("current_password", "That is not your current password.")
    if problem := passwords.problem(new, email=user.email or "", name=user.display_name):
        raise AccountError("new_password", problem)
    user.password_hash = passwords.hashed(new)
    end_sessions(session, user)


def delete(session: Session, user: User, password: str) -> None:
    """Wipe the account; its pledges stay counted, anonymised by the support feature."""
    if not passwords.matches(user.password_hash, password):
        raise AccountError("password", "That is not your password.")
    account_deleted.send(session, user_id=user.id)
    user.email, user.display_name, user.password_hash = None, "", ""
    user.is_editor = False
    user.deleted_at = utcnow()
    end_sessions(session, user)


@dataclass
class Counts:
    accounts: int
    editors: int


def counts(session: Session) -> Counts:
    live = User.deleted_at.is_(None)
    return Counts(session.scalar(select(func.count()).where(live)) or 0,
                  session.scalar(select(func.count()).where(live, User.is_editor)) or 0)
