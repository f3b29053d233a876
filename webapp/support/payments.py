"""What Stripe's webhook events do to pledges: each event applied once, in one transaction.

The route has verified the signature; here the event's effect and its `payment_event`
row (UNIQUE event id) go in together. A replay finds the row and changes nothing; two
deliveries racing each other queue for the pledge's row, and the second finds the event.

Each event only records a fact: a session paid or expired, a month paid, a subscription
ended, a payment refunded (Stripe's running total, of which the largest seen is kept) or
disputed. Then `_settle` works out, from the pledge's payments (PledgePayment rows), what
it counts and what its status is, and moves the counters by the difference, in the same
transaction. Facts that only grow, and one place that derives the rest, are why events
that arrive late, twice or out of order end in the same state: a subscription deleted
before its checkout completed leaves the pledge cancelled with its first month counted,
exactly as if they had come the other way round.

What counts: a pledge paid through Stripe counts the money it received and kept, whatever
its status (pending and expired ones count nothing); it counts as a supporter while
active. So:
- checkout.session.completed, paid: pending (or expired: the money came) -> active; its
  first payment counts.
- checkout.session.expired: pending -> expired.
- invoice.paid: a month paid (the first, or a later one while the campaign runs) counts,
  once per invoice, however many event ids announce it (a reconciled month included).
- customer.subscription.deleted: the monthly pledge ends (cancelled); what it paid stays.
- charge.refunded: what was refunded of that payment comes out. A partial refund leaves
  the pledge active with less; when everything it paid has been given back it ends
  `refunded`.
- charge.dispute.created: the disputed payment comes out and the pledge ends `disputed`
  (the card holder says they did not agree to pay). charge.dispute.closed, won: the money
  comes back; a one-time pledge is active again, a monthly one stays ended (cancelled).
- A monthly pledge ended by a refund or dispute has its subscription cancelled at Stripe
  (`receive`, after the transaction), so it is not charged again.
Other types are answered 200, logged and not kept."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.engine import Connection

from webapp.clock import utcnow
from webapp.database import dialect_insert, write_transaction
from webapp.support import campaigns, pledges, providers
from webapp.support.models import (ACTIVE, CANCELLED, DISPUTE_LOST, DISPUTE_OPEN, DISPUTE_WON, DISPUTED, EXPIRED,
                                   MONTHLY, PENDING, REFUNDED, Campaign, PaymentEvent, Pledge, PledgePayment)

log = logging.getLogger(__name__)
PLEDGE, EVENT, CAMPAIGN, PAYMENT = Pledge.__table__, PaymentEvent.__table__, Campaign.__table__, PledgePayment.__table__

HANDLED = ("checkout.session.completed", "checkout.session.expired", "invoice.paid",
           "customer.subscription.deleted", "charge.refunded", "charge.dispute.created", "charge.dispute.closed")
# Dispute statuses Stripe closes with that give the money back to the seller.
RETURNED = ("won", "warning_closed", "prevented")
UNCOUNTED = (PENDING, EXPIRED)  # statuses whose payments count nothing (not paid, as far as we know)


@dataclass(frozen=True)
class Applied:
    outcome: str  # what it did, as kept in payment_event.outcome
    replay: bool = False  # the event had been applied already: nothing changed now
    pledge_id: int | None = None
    # A subscription to cancel at Stripe: its pledge was ended by a refund or a dispute.
    stop_subscription: str | None = None


@dataclass(frozen=True)
class Change:
    """One event about one pledge, for its handler: the locked pledge row as it was."""

    connection: Connection
    pledge: object
    obj: dict
    now: dt.datetime
    invoice: str | None = None  # a monthly payment's invoice, when a look-up at Stripe found it


def _insert_event(connection: Connection, event: dict, pledge_id: int | None, outcome: str, now: dt.datetime) -> bool:
    """Keep the event; False if it was kept already (then the caller must change nothing)."""
    return connection.execute(
        dialect_insert(connection, EVENT).values(event_id=event["id"], type=event["type"], pledge_id=pledge_id,
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
    key, except charges and disputes, which lead to it through their payment."""
    obj = event["data"]["object"]
    kind = event["type"]
    if kind.startswith("checkout.session."):
        return obj.get("client_reference_id") or (obj.get("metadata") or {}).get("pledge")
    if kind == "customer.subscription.deleted":
        return (obj.get("metadata") or {}).get("pledge")
    if kind == "invoice.paid":
        return (_subscription_details(obj).get("metadata") or {}).get("pledge")
    return None


def _subscription_details(invoice: dict) -> dict:
    return (invoice.get("parent") or {}).get("subscription_details") or {}


def payment_of(event: dict) -> str | None:
    """The payment intent a charge or dispute event is about."""
    return event["data"]["object"].get("payment_intent")


def _owner_of_payment(engine: Engine, payment: str,
                      provider: providers.StripeCheckout | None) -> tuple[str | None, str | None]:
    """The key of the pledge a payment belongs to and, for a monthly one, its invoice: from
    what Plumb knows, else asked of Stripe (outside any transaction; may raise
    ProviderUnavailable: answered 503, and Stripe sends the event again)."""
    with engine.connect() as connection:
        known = connection.execute(
            select(PLEDGE.c.idempotency_key).select_from(PLEDGE.outerjoin(PAYMENT, PAYMENT.c.pledge_id == PLEDGE.c.id))
            .where(or_(PAYMENT.c.payment_ref == payment, PLEDGE.c.payment_ref == payment)).limit(1)).first()
    if known is not None:
        return known.idempotency_key, None
    if provider is None:
        return None, None
    return provider.pledge_of_payment(payment)


def apply(engine: Engine, event: dict, provider: providers.StripeCheckout | None = None,
          now: dt.datetime | None = None) -> Applied:
    """Apply one verified event (a dict, as Stripe sent it)."""
    now = now or utcnow()
    kind = event["type"]
    if kind not in HANDLED:
        log.info("stripe event %s of type %s ignored: not one Plumb acts on", event.get("id"), kind)
        return Applied(f"ignored: {kind} is not handled")
    key, invoice = pledge_key(event), None
    payment = payment_of(event) if kind.startswith("charge.") else None
    if payment and key is None:
        key, invoice = _owner_of_payment(engine, payment, provider)
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
            # A cancellation that failed last time is asked for again (Stripe retried for it).
            return Applied("replay", replay=True, pledge_id=row.id, stop_subscription=_to_stop(row, kind))
        outcome = HANDLERS[kind](Change(connection, row, event["data"]["object"], now, invoice))
        settled, note = _settle(connection, row, now)
        if note:
            outcome = f"{outcome}; {note}"
        connection.execute(update(EVENT).where(EVENT.c.event_id == event["id"]).values(outcome=outcome[:200]))
    log.info("stripe event %s (%s) for pledge %s: %s", event["id"], kind, row.id, outcome)
    return Applied(outcome, pledge_id=row.id, stop_subscription=_to_stop(settled, kind))


def receive(engine: Engine, event: dict, provider: providers.StripeCheckout | None = None,
            now: dt.datetime | None = None) -> Applied:
    """Apply the event, then stop a subscription its pledge no longer wants. If Stripe
    cannot cancel it now, ProviderUnavailable: the route answers 503, Stripe sends the
    event again, and its replay asks for the cancellation again."""
    applied = apply(engine, event, provider, now)
    if applied.stop_subscription and provider is not None:
        provider.cancel_subscription(applied.stop_subscription)
        log.info("subscription %s cancelled: pledge %s ended by %s", applied.stop_subscription, applied.pledge_id,
                 event["type"])
    return applied


def _to_stop(pledge, kind: str) -> str | None:
    """The subscription of a monthly pledge that a refund or dispute has ended, whichever
    event settled it (a refund may come before the checkout it refunds). Asked again on
    every event about it but the deletion itself: cancelling is idempotent at Stripe, and a
    cancellation that failed (503) is retried with the event."""
    if kind == "customer.subscription.deleted":
        return None
    if pledge.frequency == MONTHLY and pledge.subscription_ref and pledge.status in (REFUNDED, DISPUTED):
        return pledge.subscription_ref
    return None


# --- each payment of a pledge ----------------------------------------------------------------

def _payment(change: Change, invoice: str | None = None, payment: str | None = None, counted: int | None = None):
    """The pledge's payment named by its invoice or payment intent, made if it is new; both
    refs are filled in as they become known. `counted`: this is the payment's own event,
    and it counts that much (only the first such event sets it). The row as it was, and
    whether this call counted it."""
    connection = change.connection
    named = ([PAYMENT.c.invoice_ref == invoice] if invoice else []) + ([PAYMENT.c.payment_ref == payment] if payment else [])
    found = connection.execute(select(PAYMENT).where(PAYMENT.c.pledge_id == change.pledge.id, or_(*named))
                               .order_by(PAYMENT.c.id)).first() if named else None
    if found is None:
        made = connection.execute(
            dialect_insert(connection, PAYMENT).values(pledge_id=change.pledge.id, invoice_ref=invoice,
                                                       payment_ref=payment, counted_cents=counted,
                                                       created_at=change.now)
            .returning(*PAYMENT.c)).one()
        return made, counted is not None
    learnt = {}
    if invoice and not found.invoice_ref:
        learnt["invoice_ref"] = invoice
    if payment and not found.payment_ref:
        learnt["payment_ref"] = payment
    newly_counted = counted is not None and found.counted_cents is None
    if newly_counted:
        learnt["counted_cents"] = counted
    if learnt:
        connection.execute(update(PAYMENT).where(PAYMENT.c.id == found.id).values(**learnt))
    return found, newly_counted


def _settle(connection: Connection, before, now: dt.datetime):
    """Bring the pledge's status and what it counts in line with its payments, and move the
    counters by the difference from `before` (the pledge as the event found it). The
    settled pledge row, and a note of what changed."""
    pledge = connection.execute(select(PLEDGE).where(PLEDGE.c.id == before.id)).one()
    paid = kept = 0
    disputed = refunded = False
    for row in connection.execute(select(PAYMENT).where(PAYMENT.c.pledge_id == pledge.id)):
        against = row.refunded_cents + (row.disputed_cents if row.dispute_status in (DISPUTE_OPEN, DISPUTE_LOST) else 0)
        taken = min(row.counted_cents or 0, against)
        if taken != row.taken_cents:
            connection.execute(update(PAYMENT).where(PAYMENT.c.id == row.id).values(taken_cents=taken))
        paid += row.counted_cents or 0
        kept += (row.counted_cents or 0) - taken
        disputed = disputed or row.dispute_status in (DISPUTE_OPEN, DISPUTE_LOST)
        refunded = refunded or row.refunded_cents > 0
    status = pledge.status
    if status == ACTIVE and disputed:
        status = DISPUTED
    elif status == ACTIVE and refunded and paid > 0 and kept == 0:
        status = REFUNDED  # everything it paid was given back
    elif status == DISPUTED and not disputed:
        # The dispute was won: the money stays. A monthly pledge's subscription was stopped
        # when the dispute came, so it is over; a one-time payment counts again.
        status = (ACTIVE if kept > 0 else REFUNDED) if pledge.frequency != MONTHLY else CANCELLED
    if status in UNCOUNTED:
        kept = 0
    step = (status == ACTIVE) - (before.status == ACTIVE)
    cents = kept - before.counted_cents
    if status == pledge.status and kept == pledge.counted_cents and step == 0:
        return pledge, ""
    values = {"status": status, "counted_cents": kept}
    if status != ACTIVE and pledge.status == ACTIVE:
        values["cancelled_at"] = now
    elif status == ACTIVE:
        values["cancelled_at"] = None
    settled = connection.execute(update(PLEDGE).where(PLEDGE.c.id == pledge.id).values(**values)
                                 .returning(*PLEDGE.c)).one()
    if step or cents:
        pledges.move_counters(connection, pledge.campaign_id, pledge.user_id, pledges=step, cents=cents)
    return settled, f"counts {kept} cents" + (f", {status}" if status != pledge.status else "")


# --- the handlers: each records what the event says ---------------------------------------

def _completed(change: Change) -> str:
    session, row = change.obj, change.pledge
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return "ignored: not paid yet"  # a delayed method; Stripe says more when it settles
    if (session.get("amount_total"), (session.get("currency") or "").upper()) != (row.amount_cents, row.currency):
        log.error("checkout session %s for pledge %s: %s %s paid, %s %s pledged", session.get("id"), row.id,
                  session.get("amount_total"), session.get("currency"), row.amount_cents, row.currency)
        return "ignored: the amount paid is not the amount pledged"
    # An expired pledge paid at the last moment is still money received: it counts. (The
    # row is locked: its status as read is its status now.)
    activated = row.status in UNCOUNTED
    values = {k: v for k, v in (("payment_ref", session.get("payment_intent")),
                                ("subscription_ref", session.get("subscription"))) if v}
    if activated:
        values.update(status=ACTIVE, cancelled_at=None)
    if values:
        change.connection.execute(update(PLEDGE).where(PLEDGE.c.id == row.id).values(**values))
    # A session with neither (nothing to pay) is its own payment: named by the session, so
    # that a second announcement of it finds the same row.
    payment = session.get("payment_intent") or (None if session.get("invoice") else session.get("id"))
    _, newly_paid = _payment(change, invoice=session.get("invoice"), payment=payment, counted=row.amount_cents)
    if activated:
        return "activated"
    return f"paid; the pledge stays {row.status}" if newly_paid else f"no change: the pledge is {row.status}"


def _expired(change: Change) -> str:
    changed = change.connection.execute(
        update(PLEDGE).where(PLEDGE.c.id == change.pledge.id, PLEDGE.c.status == PENDING)
        .values(status=EXPIRED, cancelled_at=change.now)).rowcount
    return "expired" if changed else f"no change: the pledge is {change.pledge.status}"


def _invoice_paid(change: Change) -> str:
    invoice, row = change.obj, change.pledge
    paid = int(invoice.get("amount_paid") or 0)
    # A month is the pledge's own subscription paying the pledged amount; anything else
    # (another subscription, another currency or sum) is logged and counts nothing.
    subscription = _subscription_details(invoice).get("subscription") or invoice.get("subscription")
    if row.subscription_ref and subscription != row.subscription_ref:
        log.error("invoice %s for pledge %s: subscription %s, the pledge's is %s", invoice.get("id"), row.id,
                  subscription, row.subscription_ref)
        return "ignored: the invoice is not for the pledge's subscription"
    if paid and (paid, (invoice.get("currency") or "").upper()) != (row.amount_cents, row.currency):
        log.error("invoice %s for pledge %s: %s %s paid, %s %s pledged", invoice.get("id"), row.id,
                  paid, invoice.get("currency"), row.amount_cents, row.currency)
        return "ignored: the amount paid is not the amount pledged"
    if paid == 0:
        return "no change: nothing was paid"
    counts = paid
    if invoice.get("billing_reason") != "subscription_create":  # the first month was pledged in the window
        campaign = change.connection.execute(select(CAMPAIGN).where(CAMPAIGN.c.id == row.campaign_id)).one()
        paid_at = (invoice.get("status_transitions") or {}).get("paid_at") or invoice.get("created")
        when = dt.datetime.fromtimestamp(paid_at, dt.UTC).replace(tzinfo=None) if paid_at else change.now
        if not campaigns.accepting(campaign, when):
            counts = 0
    if not _payment(change, invoice=invoice.get("id"), counted=counts)[1]:
        return "no change: this invoice was counted already"
    if counts == 0:
        return "no change: paid outside the campaign's window"
    return f"a month of {paid} cents paid" + (" (held until the pledge is active)" if row.status in UNCOUNTED else "")


def _subscription_deleted(change: Change) -> str:
    # What it paid stays counted (_settle): the money was received.
    changed = change.connection.execute(
        update(PLEDGE).where(PLEDGE.c.id == change.pledge.id, PLEDGE.c.status.in_((ACTIVE, PENDING, EXPIRED)))
        .values(status=CANCELLED, cancelled_at=change.now)).rowcount
    return CANCELLED if changed else f"no change: the pledge is {change.pledge.status}"


def _refunded(change: Change) -> str:
    charge = change.obj
    row, _ = _payment(change, invoice=change.invoice, payment=charge.get("payment_intent"))
    refunded = int(charge.get("amount_refunded") or 0)
    # Stripe's running total for the charge: the largest seen is the latest.
    grown = change.connection.execute(
        update(PAYMENT).where(PAYMENT.c.id == row.id, PAYMENT.c.refunded_cents < refunded)
        .values(refunded_cents=refunded)).rowcount
    return f"{refunded} cents refunded" if grown else "no change: a refund seen already"


def _dispute(change: Change) -> str:
    dispute = change.obj
    row, _ = _payment(change, invoice=change.invoice, payment=dispute.get("payment_intent"))
    amount = int(dispute.get("amount") or 0)
    if dispute.get("status") in RETURNED or dispute.get("status") == "lost":
        state = DISPUTE_WON if dispute.get("status") in RETURNED else DISPUTE_LOST
        # Closed is final, whatever arrived before it.
        change.connection.execute(update(PAYMENT).where(PAYMENT.c.id == row.id)
                                  .values(dispute_status=state, disputed_cents=amount))
        return f"dispute {state}"
    # Opened: only if nothing is known of it yet (a late "created" must not reopen a closed one).
    opened = change.connection.execute(
        update(PAYMENT).where(PAYMENT.c.id == row.id, PAYMENT.c.dispute_status.is_(None))
        .values(dispute_status=DISPUTE_OPEN, disputed_cents=amount)).rowcount
    return f"{amount} cents disputed" if opened else "no change: a dispute seen already"


HANDLERS = {
    "checkout.session.completed": _completed,
    "checkout.session.expired": _expired,
    "invoice.paid": _invoice_paid,
    "customer.subscription.deleted": _subscription_deleted,
    "charge.refunded": _refunded,
    "charge.dispute.created": _dispute,
    "charge.dispute.closed": _dispute,
}
