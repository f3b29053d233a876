"""The daily email to followers: at most one a day per account, telling every change to
the questions it follows since the last one, with a one-click unsubscribe.

Sent outside any request, by `flask following notify` (cron, or a worker's timer).
The rules:
- Off unless MAIL_SERVER is set: without a mail server nothing is sent and nothing is
  marked, so turning mail on later tells what changed since each account's last digest.
- One a day: an account with a digest sent (or possibly sent) in the last 24 hours waits.
- Never twice for the same change: a digest is written as `sending`, with the changes
  it covers, and committed before the message is handed to the mail server; it is
  marked `sent` after. A run that dies in between leaves it `sending`; a later run marks
  it `unknown` (it may have gone) and goes on from after its changes. At most once.
- Retried on failure: a mail server that refuses or cannot be reached marks the digest
  `failed`; the next run takes the same changes again (and any newer) in that row.
- Two runs at once (two machines' crons): a digest row is unique per account and first
  change, so only one of them writes it, and only that one sends."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.accounts.mail import Mailer, MailError
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.following import service
from webapp.following.models import (ANSWERED, FAILED, SENDING, SENT, UNKNOWN, Digest, Follow, FollowSettings,
                                     QuestionChange)
from webapp.urls import absolute_url

DAY = dt.timedelta(days=1)
STALE = dt.timedelta(minutes=15)  # a digest still `sending` after this long died on the way
MOST_CHANGES = 50  # told in one message; the rest wait for the next day
UNSUBSCRIBE_SALT = "following-unsubscribe"
TOLD = (SENT, UNKNOWN, SENDING)  # a digest in these states told (or may have told) its changes
WORDS = {ANSWERED: "Answered", "re-checked": "Re-checked", "corrected": "Corrected", "updated": "Updated"}


# --- unsubscribing ------------------------------------------------------------------------------

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int) -> str:
    """Signed, with no expiry: a link in a message months old still works, and it can
    do only one thing (stop the digest)."""
    return _signer().dumps({"u": user_id})


def user_of_token(token: str) -> int | None:
    try:
        value = _signer().loads(token)
    except BadSignature:
        return None
    user_id = value.get("u") if isinstance(value, dict) else None
    return user_id if isinstance(user_id, int) else None


# --- who is owed a digest -------------------------------------------------------------------------

@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    waiting: int = 0  # had news, but had a digest in the last 24 hours
    given_up: list[int] = field(default_factory=list)  # digests found `sending` and marked unknown


def _mark_stale(session: Session, now: dt.datetime) -> list[int]:
    stale = list(session.scalars(select(Digest.id).where(Digest.status == SENDING, Digest.created_at < now - STALE)))
    if stale:
        session.execute(update(Digest).where(Digest.id.in_(stale)).values(status=UNKNOWN))
        session.commit()
    return stale


def _told_up_to(session: Session, user_id: int) -> int:
    """The last change the account was (or may have been) told of."""
    return session.scalar(select(func.max(Digest.last_change_id)).where(
        Digest.user_id == user_id, Digest.status.in_(TOLD))) or 0


def _recently_told(session: Session, user_id: int, now: dt.datetime) -> bool:
    return session.scalar(select(Digest.id).where(
        Digest.user_id == user_id, Digest.created_at > now - DAY, Digest.status.in_(TOLD)).limit(1)) is not None


def accounts_with_news(session: Session) -> list[int]:
    """Accounts that want the digest, can receive it, and follow a question that changed
    after they followed it and after the last change they were told of. Each account's
    last told change is found once, and only the changes after it are read
    (ix_question_change_question_id_id): every change since each follow, told or not, was
    read before, on every run, from a history that only grows."""
    told = (select(Digest.user_id, func.max(Digest.last_change_id).label("up_to"))
            .where(Digest.status.in_(TOLD)).group_by(Digest.user_id).subquery())
    return list(session.scalars(
        select(Follow.user_id).distinct()
        .join(FollowSettings, FollowSettings.user_id == Follow.user_id)
        .join(User, User.id == Follow.user_id)
        .outerjoin(told, told.c.user_id == Follow.user_id)
        .where(FollowSettings.email_digest.is_(True), User.email.is_not(None), User.confirmed_at.is_not(None),
               User.deleted_at.is_(None),
               select(QuestionChange.id).where(QuestionChange.question_id == Follow.question_id,
                                               QuestionChange.id > func.coalesce(told.c.up_to, 0),
                                               QuestionChange.created_at >= Follow.created_at)
               .limit(1).scalar_subquery().is_not(None))
        .order_by(Follow.user_id)))


# --- writing and sending one --------------------------------------------------------------------

def _claim(session: Session, user_id: int, first: int, last: int, changes: int, now: dt.datetime) -> Digest | None:
    """The digest row for these changes, now `sending`, committed; None if another run has it."""
    existing = session.scalar(select(Digest).where(Digest.user_id == user_id, Digest.first_change_id == first))
    if existing is not None:
        taken = session.execute(update(Digest).where(Digest.id == existing.id, Digest.status == FAILED)
                                .values(status=SENDING, last_change_id=last, changes=changes, created_at=now,
                                        error=None))
        session.commit()
        return session.get(Digest, existing.id) if taken.rowcount == 1 else None
    digest = Digest(user_id=user_id, first_change_id=first, last_change_id=last, changes=changes, status=SENDING,
                    created_at=now)
    session.add(digest)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return digest


def message(name: str, changes: list[service.Change], unsubscribe_url: str) -> tuple[str, str]:
    """The subject and text of one digest."""
    count = len(changes)
    questions = len({c.slug for c in changes})
    if questions == 1 and changes[-1].kind == ANSWERED:
        subject = f"Answered: {changes[-1].text}"
    else:
        subject = (f"{questions} questions you follow have changed" if questions != 1
                   else f"A question you follow has changed: {changes[-1].text}")
    lines = [f"Hello {name}," if name else "Hello,", "",
             "Since our last message, these questions you follow on "
             f"{current_app.config['SITE_NAME']} have changed:", ""]
    for change in changes:
        lines += [f"- {WORDS.get(change.kind, change.kind)}: {change.text}",
                  f"  {absolute_url('answers.question', slug=change.slug)}"]
    if count >= MOST_CHANGES:
        lines += ["", "There is more; the rest comes in the next message."]
    lines += ["", f"Everything you follow: {absolute_url('following.mine')}", "",
              "You get this at most once a day because you follow these questions.",
              f"To stop these emails, open: {unsubscribe_url}", ""]
    return subject, "\n".join(lines)


def send_one(session: Session, mailer: Mailer, user_id: int, now: dt.datetime) -> str | None:
    """Send the account's digest if it is owed one: "sent", "failed", "waiting", or None
    (nothing new, or another run is sending it)."""
    after = _told_up_to(session, user_id)
    changes = service.changes_for(session, user_id, after=after, limit=MOST_CHANGES, newest_first=False)
    if not changes:
        return None
    if _recently_told(session, user_id, now):
        return "waiting"
    user = session.get(User, user_id)
    digest = _claim(session, user_id, changes[0].id, changes[-1].id, len(changes), now)
    if digest is None:
        return None
    unsubscribe_url = absolute_url("following.unsubscribe", token=unsubscribe_token(user_id))
    subject, text = message(user.display_name, changes, unsubscribe_url)
    try:
        mailer.send(user.email, subject, text, headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058: a mail client's one click
        })
    except MailError as error:
        session.execute(update(Digest).where(Digest.id == digest.id).values(status=FAILED, error=str(error)[:300]))
        session.commit()
        return "failed"
    session.execute(update(Digest).where(Digest.id == digest.id).values(status=SENT, sent_at=utcnow()))
    session.commit()
    return "sent"


def send_all(session: Session, mailer: Mailer, now: dt.datetime | None = None, progress=None) -> Outcome:
    now = now or utcnow()
    outcome = Outcome(given_up=_mark_stale(session, now))
    accounts = accounts_with_news(session)
    for user_id in accounts:
        result = send_one(session, mailer, user_id, now)
        if result == "sent":
            outcome.sent += 1
        elif result == "failed":
            outcome.failed += 1
        elif result == "waiting":
            outcome.waiting += 1
        if progress:
            progress(1)
    return outcome
