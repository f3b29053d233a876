"""`flask support reconcile`: what Stripe has against what the pledges say.

Webhooks can be lost for good (an endpoint down for longer than Stripe retries, a secret
rotated wrongly). This walks Stripe's Checkout Sessions created since a date, the
subscriptions of active monthly pledges and the refunds and disputes since that date,
and names each difference: a paid session whose pledge is not active, a pledge counted
that Stripe never took, an amount that differs, a subscription ended or a payment
refunded at Stripe while the pledge still counts, a session with no pledge here.

A fix is applied as the missing webhook would have been: through payments.apply, under
an event id made from the object (`reconcile:<id>:<type>`), so it is kept once like any
event, and a late real webhook then finds the pledge already where it belongs."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select

from webapp.support import payments, providers
from webapp.support.models import ACTIVE, EXPIRED, MONTHLY, PENDING, Pledge

PLEDGE = Pledge.__table__


@dataclass(frozen=True)
class Drift:
    pledge: str | None  # the pledge's key, if it has one here
    what: str
    fix: dict | None = None  # the event that puts it right, if one can
    fix_note: str = ""


def _stamp(moment: dt.datetime) -> int:
    return calendar.timegm(moment.timetuple())


def _event(kind: str, obj: dict) -> dict:
    return {"id": f"reconcile:{obj['id']}:{kind}", "object": "event", "type": kind, "data": {"object": obj}}


def compare(engine: Engine, stripe: providers.StripeCheckout, since: dt.datetime) -> list[Drift]:
    client = stripe.client
    with engine.connect() as connection:
        rows = {row.idempotency_key: row for row in connection.execute(
            select(PLEDGE).where(PLEDGE.c.provider == providers.STRIPE))}
    since_stamp = _stamp(since)
    drifts: list[Drift] = []
    seen_sessions = set()
    listed = providers.calling_stripe(client.v1.checkout.sessions.list,
                                      params={"created": {"gte": since_stamp}, "limit": 100})
    for session in (s.to_dict() for s in listed.auto_paging_iter()):
        seen_sessions.add(session["id"])
        key = session.get("client_reference_id") or (session.get("metadata") or {}).get("pledge")
        row = rows.get(key)
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
    for row in rows.values():
        if row.created_at >= since and row.provider_ref not in seen_sessions:
            drifts.append(Drift(row.idempotency_key, f"{row.status} here, but Stripe has no session {row.provider_ref}"))
        if row.status == ACTIVE and row.frequency == MONTHLY and row.subscription_ref:
            subscription = providers.calling_stripe(client.v1.subscriptions.retrieve, row.subscription_ref).to_dict()
            if subscription.get("status") == "canceled":
                drifts.append(Drift(row.idempotency_key, "its subscription has ended at Stripe; it still counts here",
                                    _event("customer.subscription.deleted", subscription), "cancelled"))
    by_payment = {row.payment_ref: row for row in rows.values() if row.payment_ref}
    for kind, listing, status in (("charge.refunded", client.v1.refunds, "refunded"),
                                  ("charge.dispute.created", client.v1.disputes, "disputed")):
        page = providers.calling_stripe(listing.list, params={"created": {"gte": since_stamp}, "limit": 100})
        for item in (i.to_dict() for i in page.auto_paging_iter()):
            row = by_payment.get(item.get("payment_intent"))
            if row is None or row.status != ACTIVE:
                continue
            if kind == "charge.refunded":
                charge = providers.calling_stripe(client.v1.charges.retrieve, item["charge"]).to_dict()
                if not charge.get("refunded"):
                    continue  # a partial refund: the pledge stands
                obj = charge
            else:
                obj = item
            drifts.append(Drift(row.idempotency_key, f"{status} at Stripe; it still counts here", _event(kind, obj),
                                status))
    return drifts


def fix(engine: Engine, drifts: list[Drift]) -> int:
    applied = 0
    for drift in drifts:
        if drift.fix is not None and not payments.apply(engine, drift.fix).replay:
            applied += 1
    return applied
