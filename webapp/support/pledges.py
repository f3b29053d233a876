"""Recording and cancelling pledges: each one counted once, and never lost.

One transaction inserts the pledge (insert-or-nothing on its idempotency key) and, only
if a row was inserted, moves the counters with `UPDATE … SET n = n + 1`; cancelling is
the mirror image. On SQLite the transaction holds the write lock from BEGIN."""
from __future__ import annotations

import datetime as dt
import enum
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from webapp.accounts.service import account_deleted
from webapp.clock import utcnow
from webapp.database import write_transaction
from webapp.support import campaigns, providers
from webapp.support.choices import KEY_RE, Choice
from webapp.support.models import ACTIVE, CANCELLED, Campaign, CampaignSupporter, Pledge

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


def _insert(connection: Connection, table):
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


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


def _same_pledge(row, user_id: int, campaign_id: int, choice: Choice) -> bool:
    return (row.user_id, row.campaign_id, row.amount_cents, row.frequency) == (
        user_id, campaign_id, choice.amount_cents, choice.frequency)


def pledge(engine: Engine, campaign: Campaign, user_id: int, choice: Choice,
           provider: providers.Provider | None = None, now: dt.datetime | None = None) -> Outcome:
    """Record `choice` (already checked) once, however often it is submitted."""
    provider = provider or providers.get("record")
    now = now or utcnow()
    campaign_id = campaign.id
    # Outside the transaction: a real processor answers over the network, and the
    # write lock must not wait for it. Same key, same reference, so a retry is harmless.
    reference = provider.commit(providers.Commitment(choice.key, choice.amount_cents, campaign.currency,
                                                     choice.frequency))
    with write_transaction(engine) as connection:
        inserted = connection.execute(
            _insert(connection, PLEDGE).values(
                idempotency_key=choice.key, campaign_id=campaign_id, user_id=user_id,
                amount_cents=choice.amount_cents, currency=campaign.currency, frequency=choice.frequency,
                public_name=choice.public_name or None, message=choice.message or None, status=ACTIVE,
                provider=provider.name, provider_ref=reference, created_at=now,
            ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(*PLEDGE.c)
        ).one_or_none()
        if inserted is None:
            return _repeat(connection, user_id, campaign_id, choice)
        # Read under the lock: a campaign ended a moment ago takes no more pledges.
        current = connection.execute(select(CAMPAIGN).where(CAMPAIGN.c.id == campaign_id)).one()
        if not campaigns.accepting(current, now):  # the row has the attributes a Campaign has
            raise PledgeRefused(Refusal.NOT_TAKING_PLEDGES)  # rolls the insert back
        counters = _count(connection, campaign_id, user_id, choice.amount_cents, +1)
    return _outcome(inserted, counters, created=True)


def _repeat(connection: Connection, user_id: int, campaign_id: int, choice: Choice) -> Outcome:
    row = connection.execute(select(PLEDGE).where(PLEDGE.c.idempotency_key == choice.key)).one()
    if not _same_pledge(row, user_id, campaign_id, choice):
        raise PledgeRefused(Refusal.KEY_USED_ELSEWHERE)
    counters = connection.execute(select(CAMPAIGN.c.supporters, CAMPAIGN.c.amount_cents)
                                  .where(CAMPAIGN.c.id == campaign_id)).one()
    return _outcome(row, counters, created=False)


def _outcome(row, counters, created: bool) -> Outcome:
    return Outcome(pledge_id=row.id, reference=row.idempotency_key, amount_cents=row.amount_cents,
                   currency=row.currency, frequency=row.frequency, public_name=row.public_name, created=created,
                   supporters=counters.supporters, campaign_amount_cents=counters.amount_cents)


def _count(connection: Connection, campaign_id: int, user_id: int, cents: int, step: int):
    """Move the counters by one pledge: the account's active pledges, and the campaign's
    supporters (when that goes 0 -> 1 or 1 -> 0) and amount; the campaign's counters after."""
    if step > 0:
        active = connection.execute(
            _insert(connection, SUPPORTER).values(campaign_id=campaign_id, user_id=user_id, active_pledges=1)
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
            amount_cents=CAMPAIGN.c.amount_cents + step * cents)
        .returning(CAMPAIGN.c.supporters, CAMPAIGN.c.amount_cents)
    ).one()


def cancel(engine: Engine, pledge_id: int, user_id: int, now: dt.datetime | None = None) -> bool:
    """Cancel one of the user's active pledges; False if there was none to cancel
    (cancelling twice changes nothing the second time)."""
    now = now or utcnow()
    with write_transaction(engine) as connection:
        row = connection.execute(
            update(PLEDGE).where(PLEDGE.c.id == pledge_id, PLEDGE.c.user_id == user_id, PLEDGE.c.status == ACTIVE)
            .values(status=CANCELLED, cancelled_at=now)
            .returning(PLEDGE.c.campaign_id, PLEDGE.c.amount_cents, PLEDGE.c.provider, PLEDGE.c.provider_ref)
        ).one_or_none()
        if row is None:
            return False
        _count(connection, row.campaign_id, user_id, row.amount_cents, -1)
    providers.get(row.provider).cancel(row.provider_ref)
    return True


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
    return list(session.scalars(select(Pledge).where(Pledge.user_id == user_id)
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
        amount = session.scalar(select(func.coalesce(func.sum(Pledge.amount_cents), 0)).where(mine, active)) or 0
        for counter, stored, real in (("supporters", campaign.supporters, supporters),
                                      ("amount_cents", campaign.amount_cents, amount)):
            if stored != real:
                drifts.append(Drift(campaign.slug, counter, stored, real))
        per_user = dict(session.execute(select(Pledge.user_id, func.count()).where(mine, active).group_by(Pledge.user_id)).all())
        for row in session.scalars(select(CampaignSupporter).where(CampaignSupporter.campaign_id == campaign.id)):
            if row.active_pledges != per_user.get(row.user_id, 0):
                drifts.append(Drift(campaign.slug, f"active pledges of account {row.user_id}",
                                    row.active_pledges, per_user.get(row.user_id, 0)))
    return drifts
