"""`flask support reconcile`: what Stripe has against what the pledges say.

Webhooks can be lost for good (an endpoint down for longer than Stripe retries, a secret
rotated wrongly). This walks what Stripe made since a date: Checkout Sessions, paid
invoices (each month of a subscription), refunds and disputes, and the subscriptions of
monthly pledges, and names each difference: a paid session whose pledge is not active, a
pledge counted that Stripe never took, an amount that differs, a month paid and not
counted, a refund or dispute not taken into account, a subscription ended at Stripe while
its pledge still counts as a supporter, or still charging while its pledge has ended here.

A fix is applied as the missing webhook would have been: through payments.apply, under
an event id made from the object and what it says (`reconcile:<id>:<type>`, a refund's
running total too), so it is kept once like any event. Counting is keyed by the object
(an invoice, a payment), not by the event, so the real webhook arriving late after a fix
finds the month or refund already known and changes nothing. A subscription to stop is
cancelled through the API, as the webhook route does."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select

from webapp.support import payments, providers
from webapp.support.models import (ACTIVE, DISPUTE_LOST, DISPUTE_OPEN, DISPUTE_WON, DISPUTED, EXPIRED, MONTHLY,
                                   PENDING, REFUNDED, Pledge, PledgePayment)

PLEDGE, PAYMENT = Pledge.__table__, PledgePayment.__table__


@dataclass(frozen=True)
class Drift:
    pledge: str | None  # the pledge's key, if it has one here
    what: str
    fix: dict | None = None  # the event that puts it right, if one can
    fix_note: str = ""
    stop: str | None = None  # or a subscription to cancel at Stripe

    @property
    def fixable(self) -> bool:
        return self.fix is not None or self.stop is not None


def _stamp(moment: dt.datetime) -> int:
    return calendar.timegm(moment.timetuple())


def _event(kind: str, obj: dict, version: str = "") -> dict:
    suffix = f":{version}" if version else ""
    return {"id": f"reconcile:{obj['id']}:{kind}{suffix}", "object": "event", "type": kind, "data": {"object": obj}}


def _dispute_state(status: str | None) -> str:
    if status in payments.RETURNED:
        return DISPUTE_WON
    return DISPUTE_LOST if status == "lost" else DISPUTE_OPEN


class _Known:
    """Plumb's side: the Stripe pledges and their payments, read once."""

    def __init__(self, engine: Engine):
        with engine.connect() as connection:
            self.pledges = {row.idempotency_key: row for row in connection.execute(
                select(PLEDGE).where(PLEDGE.c.provider == providers.STRIPE))}
            by_id = {row.id: row for row in self.pledges.values()}
            found = connection.execute(select(PAYMENT)).all()
        self.pledge_of_payment = {p.id: by_id.get(p.pledge_id) for p in found}
        self.by_invoice = {p.invoice_ref: p for p in found if p.invoice_ref}
        self.by_payment = {p.payment_ref: p for p in found if p.payment_ref}
        self.by_subscription = {row.subscription_ref: row for row in self.pledges.values() if row.subscription_ref}
        self.one_time = {row.payment_ref: row for row in self.pledges.values() if row.payment_ref}

    def payment(self, stripe: providers.StripeCheckout, payment_intent: str | None):
        """(pledge, its payment row or None) for a payment intent; (None, None) if not ours."""
        if not payment_intent:
            return None, None
        if (row := self.by_payment.get(payment_intent)) is not None:
            return self.pledge_of_payment[row.id], row
        if (pledge := self.one_time.get(payment_intent)) is not None:
            return pledge, None
        key, invoice = stripe.pledge_of_payment(payment_intent)  # a month: Stripe knows whose
        pledge = self.pledges.get(key)
        if pledge is None:
            return None, None
        row = self.by_invoice.get(invoice) if invoice else None
        return pledge, (row if row is not None and row.pledge_id == pledge.id else None)


def _listed(listing, since_stamp: int, **params):
    page = providers.calling_stripe(listing.list, params={"created": {"gte": since_stamp}, "limit": 100, **params})
    return (item.to_dict() for item in page.auto_paging_iter())


def compare(engine: Engine, stripe: providers.StripeCheckout, since: dt.datetime) -> list[Drift]:
    """Every difference since `since`. Raises ProviderUnavailable (or a StripeError) when
    Stripe cannot be asked: then nothing is known, which is not the same as no drift."""
    client, known, since_stamp = stripe.client, _Known(engine), _stamp(since)
    drifts: list[Drift] = []
    drifts += _sessions(client, known, since, since_stamp)
    drifts += _invoices(client, known, since_stamp)
    drifts += _subscriptions(client, known)
    drifts += _refunds(client, stripe, known, since_stamp)
    drifts += _disputes(client, stripe, known, since_stamp)
    return drifts


def _sessions(client, known: _Known, since: dt.datetime, since_stamp: int) -> list[Drift]:
    drifts, seen = [], set()
    for session in _listed(client.v1.checkout.sessions, since_stamp):
        seen.add(session["id"])
        key = session.get("client_reference_id") or (session.get("metadata") or {}).get("pledge")
        row = known.pledges.get(key)
        paid = session.get("status") == "complete" and session.get("payment_status") == "paid"
        if row is None:
            if paid:
                drifts.append(Drift(key, f"session {session['id']} was paid at Stripe and has no pledge here"))
            continue
        if row.provider_ref != session["id"]:
            continue  # an older session for the same key (Stripe's idempotency had expired)
        if paid and session.get("amount_total") != row.amount_cents:
            drifts.append(Drift(key, f"Stripe took {session.get('amount_total')} cents; "
                                     f"the pledge says {row.amount_cents}"))
        elif paid and row.status in (PENDING, EXPIRED):
            drifts.append(Drift(key, f"paid at Stripe, {row.status} here", _event("checkout.session.completed", session),
                                "counted as paid"))
        elif session.get("status") == "expired" and row.status == PENDING:
            drifts.append(Drift(key, "expired at Stripe, pending here", _event("checkout.session.expired", session),
                                "expired"))
        elif not paid and row.status == ACTIVE:
            drifts.append(Drift(key, f"counted here, but Stripe's session is {session.get('status')} "
                                     f"({session.get('payment_status')})"))
    for row in known.pledges.values():
        if row.created_at >= since and row.provider_ref not in seen:
            drifts.append(Drift(row.idempotency_key, f"{row.status} here, but Stripe has no session {row.provider_ref}"))
    return drifts


def _invoices(client, known: _Known, since_stamp: int) -> list[Drift]:
    drifts = []
    for invoice in _listed(client.v1.invoices, since_stamp, status="paid"):
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        pledge = known.pledges.get((details.get("metadata") or {}).get("pledge")) \
            or known.by_subscription.get(details.get("subscription"))
        if pledge is None or pledge.status in (PENDING, EXPIRED):
            continue  # not a pledge's, or its session is still to be put right (above)
        payment = known.by_invoice.get(invoice["id"])
        if payment is None or payment.counted_cents is None:
            drifts.append(Drift(pledge.idempotency_key,
                                f"a month paid at Stripe (invoice {invoice['id']}, {invoice.get('amount_paid')} cents) "
                                "is not counted here", _event("invoice.paid", invoice), "counted"))
    return drifts


def _subscriptions(client, known: _Known) -> list[Drift]:
    drifts = []
    for row in known.pledges.values():
        if row.frequency != MONTHLY or not row.subscription_ref or row.status not in (ACTIVE, REFUNDED, DISPUTED):
            continue
        subscription = providers.calling_stripe(client.v1.subscriptions.retrieve, row.subscription_ref).to_dict()
        ended = subscription.get("status") == "canceled"
        if row.status == ACTIVE and ended:
            drifts.append(Drift(row.idempotency_key, "its subscription has ended at Stripe; it still counts here",
                                _event("customer.subscription.deleted", subscription), "cancelled"))
        elif row.status != ACTIVE and not ended:
            drifts.append(Drift(row.idempotency_key, f"{row.status} here, but its subscription is still "
                                                     f"{subscription.get('status')} at Stripe and may charge again",
                                fix_note="subscription cancelled", stop=row.subscription_ref))
    return drifts


def _refunds(client, stripe: providers.StripeCheckout, known: _Known, since_stamp: int) -> list[Drift]:
    drifts, charges = [], set()
    for refund in _listed(client.v1.refunds, since_stamp):
        if refund.get("charge") in charges:
            continue  # the charge's running total covers all its refunds
        charges.add(refund.get("charge"))
        pledge, payment = known.payment(stripe, refund.get("payment_intent"))
        if pledge is None or pledge.status in (PENDING, EXPIRED):
            continue
        charge = providers.calling_stripe(client.v1.charges.retrieve, refund["charge"]).to_dict()
        refunded = int(charge.get("amount_refunded") or 0)
        seen = payment.refunded_cents if payment is not None else 0
        if refunded > seen:
            drifts.append(Drift(pledge.idempotency_key, f"{refunded} cents of {charge['id']} refunded at Stripe, "
                                                        f"{seen} known here",
                                _event("charge.refunded", charge, str(refunded)), "taken out"))
    return drifts


def _disputes(client, stripe: providers.StripeCheckout, known: _Known, since_stamp: int) -> list[Drift]:
    drifts = []
    for dispute in _listed(client.v1.disputes, since_stamp):
        pledge, payment = known.payment(stripe, dispute.get("payment_intent"))
        if pledge is None or pledge.status in (PENDING, EXPIRED):
            continue
        state = _dispute_state(dispute.get("status"))
        seen = payment.dispute_status if payment is not None else None
        if seen == state or (seen in (DISPUTE_WON, DISPUTE_LOST) and state == DISPUTE_OPEN):
            continue
        kind = "charge.dispute.created" if state == DISPUTE_OPEN else "charge.dispute.closed"
        drifts.append(Drift(pledge.idempotency_key, f"disputed at Stripe ({dispute.get('status')}), "
                                                    f"{seen or 'not known'} here", _event(kind, dispute), state))
    return drifts


def fix(engine: Engine, stripe: providers.StripeCheckout, drifts: list[Drift]) -> int:
    """Apply every fixable drift; how many changed something."""
    applied = 0
    for drift in drifts:
        if drift.fix is not None:
            applied += not payments.receive(engine, drift.fix, stripe).replay
        elif drift.stop is not None:
            stripe.cancel_subscription(drift.stop)
            applied += 1
    return applied
