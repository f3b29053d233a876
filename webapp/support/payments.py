"""What Stripe's webhook events do to pledges: each event applied once, in one transaction.

The route has verified the signature; here the event's effect and its `payment_event`
row (UNIQUE event id) go in together. A replay finds the row and changes nothing; two
deliveries racing each other queue for the row, and the second finds it. Every change of
state is an `UPDATE … WHERE status IN (…)` that names the states it leaves, so events
that arrive late, twice or out of order end in the same state: a subscription deleted
before its checkout completed leaves the pledge cancelled, and the late completion then
finds no pending pledge to activate. The counters move only in the transaction that
makes a pledge active (pledges._count) or takes it back out (pledges.take_out).

What Stripe sends, and what it does here:
- checkout.session.completed, paid: pending (or expired: the money came) -> active, counted.
- checkout.session.expired: pending -> expired.
- invoice.paid: a monthly pledge's later months add to the amount while the campaign
  runs (the first month is counted when its checkout completes).
- customer.subscription.deleted: the monthly pledge ends (cancelled), out of every count.
- charge.refunded (the whole charge) and charge.dispute.created: the pledge's
  contribution comes back out (refunded, disputed); the wall and the counts follow.
Other types are answered 200, logged and not kept."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection

from webapp.clock import utcnow
from webapp.database import write_transaction
from webapp.support import campaigns, pledges, providers
from webapp.support.models import (ACTIVE, CANCELLED, DISPUTED, EXPIRED, PENDING, REFUNDED, Campaign, PaymentEvent,
                                   Pledge)

log = logging.getLogger(__name__)
PLEDGE, EVENT, CAMPAIGN = Pledge.__table__, PaymentEvent.__table__, Campaign.__table__

HELD = "held until the pledge is active"
HANDLED = ("checkout.session.completed", "checkout.session.expired", "invoice.paid",
           "customer.subscription.deleted", "charge.refunded", "charge.dispute.created")


@dataclass(frozen=True)
class Applied:
    outcome: str  # what it did, as kept in payment_event.outcome
    replay: bool = False  # the event had been applied already: nothing changed now
    pledge_id: int | None = None


def _insert_event(connection: Connection, event: dict, pledge_id: int | None, outcome: str, now: dt.datetime) -> bool:
    """Keep the event; False if it was kept already (then the caller must change nothing)."""
    return connection.execute(
        pledges._insert(connection, EVENT).values(event_id=event["id"], type=event["type"], pledge_id=pledge_id,
                                                  outcome=outcome[:200], received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"]).returning(EVENT.c.id)
    ).one_or_none() is not None


def _pledge_by_key(connection: Connection, key: str | None):
    """The pledge, locked until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE
    holds the whole database): two events about one pledge are applied one after the
    other, each seeing the state the other left, so none can decide on a stale status."""
    if not key:
        return None
    return connection.execute(select(PLEDGE).where(PLEDGE.c.idempotency_key == key).with_for_update()).one_or_none()


def pledge_key(event: dict) -> str | None:
    """Which pledge the event is about: every object Stripe makes for a pledge carries its
    key, except charges and disputes, which lead to it through their payment (looked up
    at Stripe, outside any transaction, when we do not know that payment yet)."""
    obj = event["data"]["object"]
    kind = event["type"]
    if kind.startswith("checkout.session."):
        return obj.get("client_reference_id") or (obj.get("metadata") or {}).get("pledge")
    if kind == "customer.subscription.deleted":
        return (obj.get("metadata") or {}).get("pledge")
    if kind == "invoice.paid":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        return (details.get("metadata") or {}).get("pledge")
    return None


def payment_of(event: dict) -> str | None:
    """The payment intent a charge or dispute event is about."""
    return event["data"]["object"].get("payment_intent")


def apply(engine: Engine, event: dict, provider: providers.StripeCheckout | None = None,
          now: dt.datetime | None = None) -> Applied:
    """Apply one verified event (a dict, as Stripe sent it)."""
    now = now or utcnow()
    kind = event["type"]
    if kind not in HANDLED:
        log.info("stripe event %s of type %s ignored: not one Plumb acts on", event.get("id"), kind)
        return Applied(f"ignored: {kind} is not handled")
    key = pledge_key(event)
    payment = payment_of(event) if kind.startswith("charge.") else None
    if payment and key is None:
        with engine.connect() as connection:
            known = connection.execute(select(PLEDGE.c.idempotency_key).where(PLEDGE.c.payment_ref == payment)).first()
        if known is not None:
            key = known.idempotency_key
        elif provider is not None:
            # May raise ProviderUnavailable: answered 503, and Stripe sends the event again.
            key = provider.pledge_key_of_payment(payment)
    with write_transaction(engine) as connection:
        row = _pledge_by_key(connection, key)
        if row is None:
            outcome = "ignored: no pledge of ours"
            if not _insert_event(connection, event, None, outcome, now):
                return Applied(outcome, replay=True)
            log.warning("stripe event %s (%s) names no pledge of ours (key %r)", event["id"], kind, key)
            return Applied(outcome)
        # The event's row first: a replay stops here, before anything else is touched.
        if not _insert_event(connection, event, row.id, "applying", now):
            return Applied("replay", replay=True, pledge_id=row.id)
        outcome = HANDLERS[kind](connection, row, event["data"]["object"], now)
        held = None
        if isinstance(outcome, tuple):
            outcome, held = outcome
        connection.execute(update(EVENT).where(EVENT.c.event_id == event["id"])
                           .values(outcome=outcome[:200], held_cents=held))
    log.info("stripe event %s (%s) for pledge %s: %s", event["id"], kind, row.id, outcome)
    return Applied(outcome, pledge_id=row.id)


def _completed(connection: Connection, row, session: dict, now: dt.datetime) -> str:
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return "ignored: not paid yet"  # a delayed method; Stripe says more when it settles
    if (session.get("amount_total"), (session.get("currency") or "").upper()) != (row.amount_cents, row.currency):
        log.error("checkout session %s for pledge %s: %s %s paid, %s %s pledged", session.get("id"), row.id,
                  session.get("amount_total"), session.get("currency"), row.amount_cents, row.currency)
        return "ignored: the amount paid is not the amount pledged"
    # An expired pledge paid at the last moment is still money received: it counts.
    activated = connection.execute(
        update(PLEDGE).where(PLEDGE.c.id == row.id, PLEDGE.c.status.in_((PENDING, EXPIRED)))
        .values(status=ACTIVE, counted_cents=row.amount_cents, cancelled_at=None,
                payment_ref=session.get("payment_intent"), subscription_ref=session.get("subscription"))
        .returning(PLEDGE.c.id)
    ).one_or_none()
    if activated is None:
        return f"no change: the pledge is {row.status}"
    # Later months whose invoices arrived before this (held): counted now, once.
    held = connection.execute(
        update(EVENT).where(EVENT.c.pledge_id == row.id, EVENT.c.outcome == HELD)
        .values(outcome="held, added when the pledge became active").returning(EVENT.c.held_cents)
    ).scalars().all()
    counted = row.amount_cents + sum(held)
    if held:
        connection.execute(update(PLEDGE).where(PLEDGE.c.id == row.id).values(counted_cents=counted))
    pledges._count(connection, row.campaign_id, row.user_id, counted, +1)
    return "activated" + (f" with {len(held)} later month(s) held" if held else "")


def _expired(connection: Connection, row, session: dict, now: dt.datetime) -> str:
    changed = connection.execute(update(PLEDGE).where(PLEDGE.c.id == row.id, PLEDGE.c.status == PENDING)
                                 .values(status=EXPIRED, cancelled_at=now)).rowcount
    return "expired" if changed else f"no change: the pledge is {row.status}"


def _invoice_paid(connection: Connection, row, invoice: dict, now: dt.datetime) -> str:
    if invoice.get("billing_reason") == "subscription_create":
        return "no change: the first month is counted when its checkout completes"
    paid = int(invoice.get("amount_paid") or 0)
    # A month is the pledge's own subscription paying the pledged amount; anything else
    # (another subscription, another currency or sum) is logged and counts nothing.
    subscription = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription") \
        or invoice.get("subscription")
    if row.subscription_ref and subscription != row.subscription_ref:
        log.error("invoice %s for pledge %s: subscription %s, the pledge's is %s", invoice.get("id"), row.id,
                  subscription, row.subscription_ref)
        return "ignored: the invoice is not for the pledge's subscription"
    if paid and (paid, (invoice.get("currency") or "").upper()) != (row.amount_cents, row.currency):
        log.error("invoice %s for pledge %s: %s %s paid, %s %s pledged", invoice.get("id"), row.id,
                  paid, invoice.get("currency"), row.amount_cents, row.currency)
        return "ignored: the amount paid is not the amount pledged"
    campaign = connection.execute(select(CAMPAIGN).where(CAMPAIGN.c.id == row.campaign_id)).one()
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at") or invoice.get("created")
    when = dt.datetime.fromtimestamp(paid_at, dt.UTC).replace(tzinfo=None) if paid_at else now
    if not campaigns.accepting(campaign, when):
        return "no change: paid outside the campaign's window"
    if paid == 0:
        return "no change: nothing was paid"
    added = connection.execute(
        update(PLEDGE).where(PLEDGE.c.id == row.id, PLEDGE.c.status == ACTIVE)
        .values(counted_cents=PLEDGE.c.counted_cents + paid).returning(PLEDGE.c.id)
    ).one_or_none()
    if added is None:
        if row.status in (PENDING, EXPIRED):  # its checkout's completion is still to come
            return HELD, paid
        return f"no change: the pledge is {row.status}"
    connection.execute(update(CAMPAIGN).where(CAMPAIGN.c.id == row.campaign_id)
                       .values(amount_cents=CAMPAIGN.c.amount_cents + paid))
    return f"added {paid} cents"


def _ended(status: str):
    def handle(connection: Connection, row, obj: dict, now: dt.datetime) -> str:
        if status == REFUNDED and not obj.get("refunded"):
            # Part of a charge given back: the pledge stays, and so does what it counts.
            return "no change: a partial refund"
        ended = pledges.take_out(connection, row.id, status, now)
        return status if ended is not None else f"no change: the pledge is {row.status}"
    return handle


HANDLERS = {
    "checkout.session.completed": _completed,
    "checkout.session.expired": _expired,
    "invoice.paid": _invoice_paid,
    "customer.subscription.deleted": _ended(CANCELLED),
    "charge.refunded": _ended(REFUNDED),
    "charge.dispute.created": _ended(DISPUTED),
}
