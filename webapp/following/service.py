"""Following questions: follow and stop, what changed since the follower last looked,
the private feed's token, and the changes recorded for followers.

Following stands above answers, accounts, graph, revisions and asking: it listens to
their signals (a request for an answer follows the question for an account; a revision
records a change for the question's followers; a deleted account forgets its follows)
and none of them imports it. Everything here takes a session and plain values."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.accounts.service import account_deleted
from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.following.models import (ANSWERED, CORRECTED, RECHECKED, UPDATED, Digest, Follow, FollowSettings,
                                     QuestionChange)
from webapp.graph.requests import answer_requested
from webapp.pagination import Page, paginate
from webapp.revisions.models import CORRECTION, RECHECK, UPDATE
from webapp.revisions.service import recorded

CHANGE_OF_REVISION = {RECHECK: RECHECKED, CORRECTION: CORRECTED, UPDATE: UPDATED}
# When several changes came since the follower last looked, the mark names the one that
# matters most to them.
MARK_ORDER = (ANSWERED, CORRECTED, RECHECKED, UPDATED)
MARKS = {ANSWERED: "answered!", CORRECTED: "corrected since your last visit",
         RECHECKED: "re-checked since your last visit", UPDATED: "updated since your last visit"}
FEED_ENTRIES = 50


# --- following and stopping -----------------------------------------------------------------

def is_following(session: Session, user_id: int, question_id: int) -> bool:
    return session.scalar(select(Follow.id).where(Follow.user_id == user_id, Follow.question_id == question_id)) \
        is not None


def follow(session: Session, user_id: int, question_id: int, now: dt.datetime | None = None) -> bool:
    """Follow the question; False if the account already did (nothing changes)."""
    if is_following(session, user_id, question_id):
        return False
    now = now or utcnow()
    try:
        with session.begin_nested():
            session.add(Follow(user_id=user_id, question_id=question_id, created_at=now, seen_at=now))
    except IntegrityError:  # the same follow at the same moment (a double click, two servers)
        return False
    settings_for(session, user_id)
    return True


def unfollow(session: Session, user_id: int, question_id: int) -> bool:
    gone = session.execute(delete(Follow).where(Follow.user_id == user_id, Follow.question_id == question_id))
    return gone.rowcount > 0


def seen(session: Session, user_id: int, question_id: int, now: dt.datetime | None = None) -> None:
    """The follower has read the question's page: its changes so far are no longer new."""
    session.execute(update(Follow).where(Follow.user_id == user_id, Follow.question_id == question_id)
                    .values(seen_at=now or utcnow()))


# --- the account's settings and private feed ------------------------------------------------

def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def settings_for(session: Session, user_id: int) -> FollowSettings:
    found = session.get(FollowSettings, user_id)
    if found is None:
        found = FollowSettings(user_id=user_id, feed_token=new_feed_token(), email_digest=True)
        try:
            with session.begin_nested():
                session.add(found)
        except IntegrityError:  # made by another request a moment ago
            found = session.get(FollowSettings, user_id)
    return found


def renew_feed_token(session: Session, user_id: int) -> str:
    """A new address for the private feed; the old one stops working at once."""
    settings = settings_for(session, user_id)
    settings.feed_token = new_feed_token()
    return settings.feed_token


def owner_of_feed(session: Session, token: str) -> int | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(FollowSettings.user_id).where(FollowSettings.feed_token == token))


def set_email_digest(session: Session, user_id: int, wanted: bool) -> None:
    settings_for(session, user_id).email_digest = wanted


# --- what an account follows ----------------------------------------------------------------

@dataclass(frozen=True)
class Followed:
    question: Question
    followed_at: dt.datetime
    mark: str | None  # "answered!", "re-checked since your last visit", …


def count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Follow).where(Follow.user_id == user_id)) or 0


def followed(session: Session, user_id: int, number: int, size: int) -> Page | None:
    """Page `number` of the account's followed questions, newest followed first, each
    marked with what changed since the follower last read it."""
    statement = (select(Follow).options(joinedload(Follow.question)).where(Follow.user_id == user_id)
                 .order_by(Follow.created_at.desc(), Follow.id.desc()))
    page = paginate(session, statement, number, size)
    if page is None or not page.items:
        return page
    since = min(f.seen_at for f in page.items)
    changes = session.execute(select(QuestionChange.question_id, QuestionChange.kind, QuestionChange.created_at)
                              .where(QuestionChange.question_id.in_([f.question_id for f in page.items]),
                                     QuestionChange.created_at > since)).all()
    kinds: dict[int, set[str]] = {}
    seen_at = {f.question_id: f.seen_at for f in page.items}
    for question_id, kind, created_at in changes:
        if created_at > seen_at[question_id]:
            kinds.setdefault(question_id, set()).add(kind)
    items = [Followed(f.question, f.created_at,
                      next((MARKS[k] for k in MARK_ORDER if k in kinds.get(f.question_id, ())), None))
             for f in page.items]
    return Page(items=items, number=page.number, size=page.size, total=page.total)


@dataclass(frozen=True)
class Change:
    id: int
    kind: str
    created_at: dt.datetime
    revision_number: int | None
    slug: str
    text: str
    summary: str


def changes_for(session: Session, user_id: int, *, after: int = 0, up_to: int | None = None,
                limit: int = FEED_ENTRIES, newest_first: bool = True) -> list[Change]:
    """Changes to the account's followed questions made since it followed each."""
    statement = (select(QuestionChange.id, QuestionChange.kind, QuestionChange.created_at,
                        QuestionChange.revision_number, Question.slug, Question.text, Question.summary)
                 .join(Follow, Follow.question_id == QuestionChange.question_id)
                 .join(Question, Question.id == QuestionChange.question_id)
                 .where(Follow.user_id == user_id, QuestionChange.created_at >= Follow.created_at,
                        QuestionChange.id > after))
    if up_to is not None:
        statement = statement.where(QuestionChange.id <= up_to)
    order = QuestionChange.id.desc() if newest_first else QuestionChange.id
    return [Change(*row) for row in session.execute(statement.order_by(order).limit(limit))]


# --- listening to the features below --------------------------------------------------------

@answer_requested.connect
def _follow_what_was_requested(session: Session, question_id: int, requester: str) -> None:
    """An account that asks for an answer follows the question (and may stop)."""
    kind, _, ident = requester.partition(":")
    if kind == "account" and ident.isdigit():
        follow(session, int(ident), question_id)


@recorded.connect
def _record_change(session: Session, question: Question, revision, answered_now: bool) -> None:
    """A revision of a followed question is a change its followers are told of."""
    if not question.answered:
        return
    if session.scalar(select(Follow.id).where(Follow.question_id == question.id).limit(1)) is None:
        return  # nobody follows it: nothing to keep
    kind = ANSWERED if answered_now else CHANGE_OF_REVISION.get(revision.kind, UPDATED)
    session.add(QuestionChange(question_id=question.id, kind=kind, revision_number=revision.number,
                               created_at=revision.created_at))


@account_deleted.connect
def _forget(session: Session, user_id: int) -> None:
    session.execute(delete(Follow).where(Follow.user_id == user_id))
    session.execute(delete(Digest).where(Digest.user_id == user_id))
    session.execute(delete(FollowSettings).where(FollowSettings.user_id == user_id))
