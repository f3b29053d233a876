"""Recording and cancelling pledges: each one counted once, and never lost.

One transaction inserts the pledge (insert-or-nothing on its idempotency key) and, only
if a row was inserted, moves the counters with `UPDATE … SET n = n + 1`; cancelling is
the mirror image. On SQLite the transaction holds the write lock from BEGIN."""
from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass, replace

from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from webapp.accounts.service import account_deleted
from webapp.clock import utcnow
from webapp.database import dialect_insert, write_transaction
from webapp.support import campaigns, providers
from webapp.support.choices import KEY_RE, Choice
from webapp.support.models import (ACTIVE, CANCELLED, EXPIRED, PENDING, RECORD, Campaign, CampaignSupporter, Pledge,
                                   PledgePayment)

PLEDGE, SUPPORTER, CAMPAIGN = Pledge.__table__, CampaignSupporter.__table__, Campaign.__table__


class Refusal(enum.Enum):
    """Why a pledge was not taken (the route decides what status that is)."""

    NOT_TAKING_PLEDGES = "This campaign is not taking pledges now."
    KEY_USED_ELSEWHERE = ("This form was already used for a different pledge. "
                          "Nothing new was recorded; reload the page to make another pledge.")


class PledgeRefused(Exception):
    """The pledge cannot be taken, for `reason`; nothing was written."""

    def __init__(self, reason: Refusal):
        super().__init__(reason.value)
        self.reason = reason


def new_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Outcome:
    """What the thank-you needs, read in the write's own transaction: the pledge as
    recorded, and the campaign's counters after it."""

    pledge_id: int
    reference: str
    amount_cents: int
    currency: str
    frequency: str
    public_name: str | None
    created: bool  # False: this key's pledge existed already (a repeat)
    supporters: int
    campaign_amount_cents: int
    status: str = ACTIVE
    pay_at: str | None = None  # pending: where the reader pays (the processor's page)


def _same_pledge(row, user_id: int, campaign_id: int, choice: Choice) -> bool:
    return (row.user_id, row.campaign_id, row.amount_cents, row.frequency) == (
        user_id, campaign_id, choice.amount_cents, choice.frequency)


def pledge(engine: Engine, campaign: Campaign, user_id: int, choice: Choice,
           provider: providers.Provider | None = None, now: dt.datetime | None = None,
           email: str | None = None) -> Outcome:
    """Record `choice` (already checked) once, however often it is submitted. With a
    provider that collects elsewhere the pledge is pending and counts nowhere: the
    processor's webhook makes it active and moves the counters (payments.py)."""
    provider = provider or providers.RecordOnly()
    now = now or utcnow()
    campaign_id = campaign.id
    # Outside the transaction: a real processor answers over the network, and the
    # write lock must not wait for it. Same key, same answer, so a retry is harmless.
    try:
        choice = _instead_of_unpaid(engine, provider, user_id, campaign_id, choice, now)
        committed = provider.commit(providers.Commitment(choice.key, choice.amount_cents, campaign.currency,
                                                         choice.frequency, email))
    except providers.ProviderRefused:
        raise PledgeRefused(Refusal.KEY_USED_ELSEWHERE) from None
    status, counted = (PENDING, 0) if committed.pending else (ACTIVE, choice.amount_cents)
    with write_transaction(engine) as connection:
        inserted = connection.execute(
            dialect_insert(connection, PLEDGE).values(
                idempotency_key=choice.key, campaign_id=campaign_id, user_id=user_id,
                amount_cents=choice.amount_cents, currency=campaign.currency, frequency=choice.frequency,
                public_name=choice.public_name or None, message=choice.message or None, status=status,
                provider=provider.name, provider_ref=committed.reference, counted_cents=counted, created_at=now,
            ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(*PLEDGE.c)
        ).one_or_none()
        if inserted is None:
            return _repeat(connection, user_id, campaign_id, choice, committed)
        # Read under the lock: a campaign ended a moment ago takes no more pledges.
        current = connection.execute(select(CAMPAIGN).where(CAMPAIGN.c.id == campaign_id)).one()
        if not campaigns.accepting(current, now):  # the row has the attributes a Campaign has
            raise PledgeRefused(Refusal.NOT_TAKING_PLEDGES)  # rolls the insert back
        if committed.pending:
            counters = connection.execute(select(CAMPAIGN.c.supporters, CAMPAIGN.c.amount_cents)
                                          .where(CAMPAIGN.c.id == campaign_id)).one()
        else:
            counters = move_counters(connection, campaign_id, user_id, pledges=+1, cents=choice.amount_cents)
    return _outcome(inserted, counters, created=True, pay_at=committed.pay_at)


def changed_key(choice: Choice) -> str:
    """The key of the pledge a form makes when its reader changed the amount or frequency
    after its first pledge went unpaid: derived from the form's key and the new choices, so
    that a double click of the changed form is still one pledge (and one Checkout Session)."""
    digest = hashlib.sha256(f"{choice.key}|{choice.amount_cents}|{choice.frequency}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def _instead_of_unpaid(engine: Engine, provider: providers.Provider, user_id: int, campaign_id: int, choice: Choice,
                       now: dt.datetime) -> Choice:
    """The form's choices, under a key of their own if they differ from the unpaid pledge
    its key already made. A reader who pressed Cancel on the processor's page comes back to
    the same form and may change the amount: the old pledge is abandoned (its payment page
    expired at the processor, so it can no longer be paid: ProviderRefused if it was paid
    meanwhile) and the new choices become a new pledge. The same choices again are the
    same pledge (the processor's idempotency answers with the same page)."""
    with engine.connect() as connection:
        row = connection.execute(select(PLEDGE).where(PLEDGE.c.idempotency_key == choice.key)).one_or_none()
    if (row is None or row.status not in (PENDING, EXPIRED) or (row.user_id, row.campaign_id) != (user_id, campaign_id)
            or _same_pledge(row, user_id, campaign_id, choice)):
        return choice
    if row.status == PENDING:
        provider.abandon(row)
        with write_transaction(engine) as connection:
            connection.execute(update(PLEDGE).where(PLEDGE.c.id == row.id, PLEDGE.c.status == PENDING)
                               .values(status=EXPIRED, cancelled_at=now))
    return replace(choice, key=changed_key(choice))


def _repeat(connection: Connection, user_id: int, campaign_id: int, choice: Choice,
            committed: providers.Committed) -> Outcome:
    row = connection.execute(select(PLEDGE).where(PLEDGE.c.idempotency_key == choice.key)).one()
    if not _same_pledge(row, user_id, campaign_id, choice):
        raise PledgeRefused(Refusal.KEY_USED_ELSEWHERE)
    counters = connection.execute(select(CAMPAIGN.c.supporters, CAMPAIGN.c.amount_cents)
                                  .where(CAMPAIGN.c.id == campaign_id)).one()
    # Still unpaid: back to the same payment page. Paid or ended: what happened, not a
    # page that would offer to pay again.
    pay_at = committed.pay_at if row.status == PENDING and committed.reference == row.provider_ref else None
    return _outcome(row, counters, created=False, pay_at=pay_at)


def _outcome(row, counters, created: bool, pay_at: str | None = None) -> Outcome:
    return Outcome(pledge_id=row.id, reference=row.idempotency_key, amount_cents=row.amount_cents,
                   currency=row.currency, frequency=row.frequency, public_name=row.public_name, created=created,
                   supporters=counters.supporters, campaign_amount_cents=counters.amount_cents,
                   status=row.status, pay_at=pay_at)


def move_counters(connection: Connection, campaign_id: int, user_id: int, *, pledges: int, cents: int):
    """Move the counters: the account's active pledges by `pledges` (+1, 0 or -1) and with
    them the campaign's supporters (when that goes 0 -> 1 or 1 -> 0), and the campaign's
    amount by `cents`; the campaign's counters after. Called only in the transaction that
    changes the pledge rows these counters summarise."""
    if pledges == 0:
        return connection.execute(
            update(CAMPAIGN).where(CAMPAIGN.c.id == campaign_id)
            .values(amount_cents=CAMPAIGN.c.amount_cents + cents)
            .returning(CAMPAIGN.c.supporters, CAMPAIGN.c.amount_cents)
        ).one()
    step = 1 if pledges > 0 else -1
    if step > 0:
        active = connection.execute(
            dialect_insert(connection, SUPPORTER).values(campaign_id=campaign_id, user_id=user_id, active_pledges=1)
            .on_conflict_do_update(index_elements=["campaign_id", "user_id"],
                                   set_={"active_pledges": SUPPORTER.c.active_pledges + 1})
            .returning(SUPPORTER.c.active_pledges)
        ).scalar_one()
        new_supporter = active == 1
    else:
        active = connection.execute(
            update(SUPPORTER).where(SUPPORTER.c.campaign_id == campaign_id, SUPPORTER.c.user_id == user_id)
            .values(active_pledges=SUPPORTER.c.active_pledges - 1).returning(SUPPORTER.c.active_pledges)
        ).scalar_one()
        new_supporter = active == 0
    return connection.execute(
        update(CAMPAIGN).where(CAMPAIGN.c.id == campaign_id).values(
            supporters=CAMPAIGN.c.supporters + (step if new_supporter else 0),
            amount_cents=CAMPAIGN.c.amount_cents + cents)
        .returning(CAMPAIGN.c.supporters, CAMPAIGN.c.amount_cents)
    ).one()


def cancel(engine: Engine, pledge_id: int, user_id: int, now: dt.datetime | None = None) -> bool:
    """Cancel one of the user's active pledges; False if there was none to cancel
    (cancelling twice changes nothing the second time). A processor is told first: if it
    cannot be reached, ProviderUnavailable leaves the pledge counted and collecting, as it
    really still is, rather than uncounted while the money keeps coming."""
    now = now or utcnow()
    with engine.connect() as connection:
        found = connection.execute(select(PLEDGE).where(
            PLEDGE.c.id == pledge_id, PLEDGE.c.user_id == user_id, PLEDGE.c.status == ACTIVE)).one_or_none()
    if found is None:
        return False
    if found.provider != providers.RECORD:
        providers.get(found.provider).cancel(found)
    return take_out(engine, pledge_id, CANCELLED, now, user_id=user_id) is not None


def take_out(engine_or_connection, pledge_id: int, status: str, now: dt.datetime, user_id: int | None = None):
    """End pledge `pledge_id` with `status`: an active one no longer counts as a supporter;
    a recorded one leaves the amount too (it collected nothing), while money a processor
    received stays counted (a refund or dispute takes it out, payments.py); a pending or
    expired one was never counted. The ended row, or None when it had ended already.
    Takes a connection inside a transaction, or an engine to open one."""
    if isinstance(engine_or_connection, Engine):
        with write_transaction(engine_or_connection) as connection:
            return take_out(connection, pledge_id, status, now, user_id)
    connection = engine_or_connection
    mine = [PLEDGE.c.id == pledge_id] + ([PLEDGE.c.user_id == user_id] if user_id is not None else [])
    # Guarded by the status it leaves: of two takers, one finds the row and moves the counters.
    found = connection.execute(select(PLEDGE.c.provider, PLEDGE.c.counted_cents).where(*mine)).one_or_none()
    if found is None:
        return None
    # Read before the guarded update: counted_cents changes only under the same lock.
    given_back = found.counted_cents if found.provider == RECORD else 0
    row = connection.execute(
        update(PLEDGE).where(*mine, PLEDGE.c.status == ACTIVE)
        .values(status=status, cancelled_at=now, counted_cents=PLEDGE.c.counted_cents - given_back)
        .returning(PLEDGE.c.id, PLEDGE.c.campaign_id, PLEDGE.c.user_id, PLEDGE.c.counted_cents)
    ).one_or_none()
    if row is not None:
        move_counters(connection, row.campaign_id, row.user_id, pledges=-1, cents=-given_back)
        return row
    if status == EXPIRED:
        return None
    return connection.execute(
        update(PLEDGE).where(*mine, PLEDGE.c.status.in_((PENDING, EXPIRED))).values(status=status, cancelled_at=now)
        .returning(PLEDGE.c.id, PLEDGE.c.campaign_id, PLEDGE.c.user_id, PLEDGE.c.counted_cents)
    ).one_or_none()


def expire(engine: Engine, now: dt.datetime | None = None, older_than: dt.timedelta = dt.timedelta(days=1),
           user_id: int | None = None) -> int:
    """Pending pledges nobody paid for within `older_than` become expired (they were never
    counted, so no counter moves); how many. Looked for first, so that reading a page
    with nothing to expire takes no write lock."""
    now = now or utcnow()
    stale = [PLEDGE.c.status == PENDING, PLEDGE.c.created_at < now - older_than]
    if user_id is not None:
        stale.append(PLEDGE.c.user_id == user_id)
    with engine.connect() as connection:
        if connection.execute(select(PLEDGE.c.id).where(*stale).limit(1)).first() is None:
            return 0
    with write_transaction(engine) as connection:
        return connection.execute(update(PLEDGE).where(*stale).values(status=EXPIRED, cancelled_at=now)).rowcount


@account_deleted.connect
def anonymise(session: Session, user_id: int) -> None:
    """A deleted account's pledges keep counting, without a name or message."""
    session.execute(update(Pledge).where(Pledge.user_id == user_id).values(public_name=None, message=None))


def mine(session: Session, user_id: int, reference: str) -> Pledge | None:
    """The user's pledge with this reference (its key), if there is one."""
    if not KEY_RE.fullmatch(reference):
        return None
    return session.scalar(select(Pledge).where(Pledge.idempotency_key == reference, Pledge.user_id == user_id))


def of_user(session: Session, user_id: int) -> list[Pledge]:
    """Every pledge of the user's that was or may yet be made; expired ones (never paid) are left out."""
    return list(session.scalars(select(Pledge).where(Pledge.user_id == user_id, Pledge.status != EXPIRED)
                                .order_by(Pledge.created_at.desc(), Pledge.id.desc())))


@dataclass(frozen=True)
class Drift:
    campaign: str
    counter: str
    stored: int
    from_rows: int


def check(session: Session) -> list[Drift]:
    """Every counter against what the pledge rows say; an empty list means all agree."""
    drifts = []
    active = Pledge.status == ACTIVE
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        mine = Pledge.campaign_id == campaign.id
        supporters = session.scalar(select(func.count(func.distinct(Pledge.user_id))).where(mine, active)) or 0
        # Money counts whatever the status (a processor's ended pledge keeps what it paid).
        amount = session.scalar(select(func.coalesce(func.sum(Pledge.counted_cents), 0)).where(mine)) or 0
        for counter, stored, real in (("supporters", campaign.supporters, supporters),
                                      ("amount_cents", campaign.amount_cents, amount)):
            if stored != real:
                drifts.append(Drift(campaign.slug, counter, stored, real))
        per_user = dict(session.execute(select(Pledge.user_id, func.count()).where(mine, active).group_by(Pledge.user_id)).all())
        for row in session.scalars(select(CampaignSupporter).where(CampaignSupporter.campaign_id == campaign.id)):
            if row.active_pledges != per_user.get(row.user_id, 0):
                drifts.append(Drift(campaign.slug, f"active pledges of account {row.user_id}",
                                    row.active_pledges, per_user.get(row.user_id, 0)))
        kept = (func.coalesce(PledgePayment.counted_cents, 0) - PledgePayment.taken_cents)
        payments = select(PledgePayment.pledge_id, func.sum(kept).label("kept")).group_by(PledgePayment.pledge_id) \
            .subquery()
        for pledge_id, stored, real in session.execute(
                select(Pledge.id, Pledge.counted_cents, func.coalesce(payments.c.kept, 0))
                .outerjoin(payments, payments.c.pledge_id == Pledge.id)
                .where(mine, Pledge.provider != RECORD, Pledge.status.not_in((PENDING, EXPIRED)))):
            if stored != real:
                drifts.append(Drift(campaign.slug, f"pledge {pledge_id}'s money (its payments)", stored, real))
    return drifts
