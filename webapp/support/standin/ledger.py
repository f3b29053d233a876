"""The stand-in's memory: every object it has made, in Stripe's shapes, behind one lock.

Objects are plain dicts shaped like the API version the `stripe` library pins (for
example an invoice names its subscription under `parent.subscription_details`, not at
the top level), so code written against the stand-in reads the same fields in
production. Every change that Stripe announces with an event announces it here too,
through `on_event`; the caller decides how to deliver it."""
from __future__ import annotations

import calendar
import copy
import itertools
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from flask import g, has_request_context

# Stripe's own limits for list pages.
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
SESSION_LIFETIME_SECONDS = 24 * 60 * 60
# A dispute's evidence is due about three weeks after it opens (Stripe: 7 to 21 days, by network).
EVIDENCE_DAYS = 19
CLOSED_DISPUTE_STATUSES = ("won", "lost", "warning_closed", "prevented")
# Every field of a dispute's `evidence`, empty until evidence is given (the stand-in takes none).
DISPUTE_EVIDENCE = (
    "access_activity_log", "appeal", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier",
    "shipping_date", "shipping_documentation", "shipping_tracking_number", "uncategorized_file",
    "uncategorized_text")


class StripeError(Exception):
    """An API error, answered with Stripe's error JSON so the library raises the matching class
    (400/404 invalid_request_error -> InvalidRequestError, idempotency_error -> IdempotencyError,
    401 -> AuthenticationError)."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = {"type": type, "message": message}
        if code:
            self.error["code"] = code
        if param:
            self.error["param"] = param


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"There is no {kind} with the id '{object_id}'.", code="resource_missing", param=param)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def add_interval(timestamp: int, interval: str, count: int) -> int:
    """The moment one billing period after `timestamp`; a month keeps its day where it can."""
    if interval == "day":
        return timestamp + 86400 * count
    if interval == "week":
        return timestamp + 7 * 86400 * count
    start = datetime.fromtimestamp(timestamp, timezone.utc)
    months = start.month - 1 + count * (12 if interval == "year" else 1)
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


class Ledger:
    def __init__(self, on_event: Callable[[dict], None], api_version: str):
        self.lock = threading.RLock()
        self.on_event = on_event
        self.api_version = api_version
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, dict] = {}
            # Lists are newest first; objects made in the same second keep the order they were made in.
            self.position: dict[str, int] = {}
            self.counter = itertools.count()
            # (api key, idempotency key) -> (what the request was, the status and body answered)
            self.idempotent: dict[tuple[str, str], tuple[tuple, int, str]] = {}
            # What a session was asked for beyond its own fields, by session id.
            self.extras: dict[str, dict] = {}

    # -- storing and finding ------------------------------------------------------------

    def _store(self, obj: dict) -> dict:
        self.objects[obj["id"]] = obj
        self.position.setdefault(obj["id"], next(self.counter))
        return obj

    def _find(self, kind: str, object_id: str, param: str = "id") -> dict:
        """The object itself, to change under the lock."""
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise missing(kind, object_id, param)
        return obj

    def get(self, kind: str, object_id: str) -> dict:
        with self.lock:
            return copy.deepcopy(self._find(kind, object_id))

    def list(self, kind: str, url: str, params: dict, filters: dict[str, Callable[[dict], Any]]) -> dict:
        """One page, newest first, as the library's `auto_paging_iter` walks it (`starting_after`
        the last id of a page while `has_more`)."""
        known = {"limit", "starting_after", "ending_before", "created", *filters}
        for name in params:
            if name not in known:
                raise StripeError(400, f"Unknown parameter for this list: {name}", param=name)
        limit = _integer(params.get("limit", DEFAULT_PAGE_SIZE), "limit")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise StripeError(400, f"limit must be between 1 and {MAX_PAGE_SIZE}", param="limit")
        with self.lock:
            rows = [o for o in self.objects.values() if o["object"] == kind]
            rows.sort(key=self.rank_of, reverse=True)
            if "created" in params:
                rows = [o for o in rows if _created_matches(o["created"], params["created"])]
            for name, read in filters.items():
                if name in params:
                    rows = [o for o in rows if _filter_matches(read(o), params[name])]
            if params.get("starting_after"):
                mark = self._rank(kind, params["starting_after"], "starting_after")
                rows = [o for o in rows if self.rank_of(o) < mark]
                page = rows[:limit]
            elif params.get("ending_before"):
                mark = self._rank(kind, params["ending_before"], "ending_before")
                rows = [o for o in rows if self.rank_of(o) > mark]
                page = rows[-limit:]
            else:
                page = rows[:limit]
            return {"object": "list", "data": copy.deepcopy(page), "has_more": len(rows) > limit, "url": url}

    def rank_of(self, obj: dict) -> tuple[int, int]:
        return obj["created"], self.position[obj["id"]]

    def _rank(self, kind: str, object_id: str, param: str) -> tuple[int, int]:
        return self.rank_of(self._find(kind, object_id, param))

    def _emit(self, event_type: str, obj: dict) -> dict:
        request_info = {"id": None, "idempotency_key": None}
        if has_request_context() and g.get("api_request"):
            # Only API calls carry a request; the hosted page and the test controls stand
            # for what Stripe itself or its dashboard did, which Stripe marks with null.
            request_info = {"id": g.request_id, "idempotency_key": g.get("idempotency_key")}
        event = self._store({
            "id": new_id("evt"), "object": "event", "api_version": self.api_version,
            "created": int(time.time()), "data": {"object": copy.deepcopy(obj)},
            "livemode": False, "pending_webhooks": 1, "request": request_info, "type": event_type,
        })
        self.on_event(copy.deepcopy(event))
        return event

    # -- Checkout Sessions --------------------------------------------------------------

    def create_session(self, params: dict, hosted_base: str) -> dict:
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            raise StripeError(400, "mode must be one of payment, subscription (the stand-in has no setup mode)",
                              param="mode")
        if not params.get("success_url"):
            raise StripeError(400, "success_url is required.", param="success_url")
        items = [_line_item(item, index, mode) for index, item in enumerate(_as_list(params.get("line_items")))]
        if not items:
            raise StripeError(400, "line_items is required: at least one.", param="line_items")
        if len({item["price"]["currency"] for item in items}) > 1:
            raise StripeError(400, "All line items must use the same currency.", param="line_items")
        now = int(time.time())
        session = {
            "id": new_id("cs_test"), "object": "checkout.session", "mode": mode,
            "amount_subtotal": sum(i["amount_total"] for i in items),
            "amount_total": sum(i["amount_total"] for i in items),
            "currency": items[0]["price"]["currency"],
            "cancel_url": params.get("cancel_url"), "success_url": params["success_url"],
            "client_reference_id": params.get("client_reference_id"),
            "customer": None, "customer_email": params.get("customer_email"), "customer_details": None,
            "created": now, "expires_at": now + SESSION_LIFETIME_SECONDS, "livemode": False,
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": None, "subscription": None, "invoice": None,
            "payment_status": "unpaid", "status": "open",
        }
        session["url"] = f"{hosted_base}/c/pay/{session['id']}"
        with self.lock:
            self._store(session)
            # Kept beside the session, not in it: Stripe shows line items only through
            # their own endpoint, and the data for a subscription or payment intent only on those.
            self.extras[session["id"]] = {
                "line_items": items,
                "payment_intent_metadata": _metadata((params.get("payment_intent_data") or {}).get("metadata")),
                "subscription_metadata": _metadata((params.get("subscription_data") or {}).get("metadata")),
            }
            return copy.deepcopy(session)

    def line_items(self, session_id: str) -> list[dict]:
        with self.lock:
            self.get("checkout.session", session_id)
            return copy.deepcopy(self.extras[session_id]["line_items"])

    def _open_session(self, session_id: str, param: str = "id") -> dict:
        session = self._find("checkout.session", session_id, param)
        if session["status"] != "open":
            raise StripeError(400, f"Only an open Checkout Session can be paid or expired; this one is "
                                   f"{session['status']}.", code="checkout_session_not_open")
        return session

    def pay(self, session_id: str, email: str | None = None) -> dict:
        """What Stripe does when the reader's card is accepted."""
        with self.lock:
            session = self._open_session(session_id)
            extras = self.extras[session_id]
            email = email or session["customer_email"]
            session["customer_details"] = {"email": email}
            if session["mode"] == "payment":
                intent = self._payment(session["amount_total"], session["currency"], None,
                                       extras["payment_intent_metadata"])
                session["payment_intent"] = intent["id"]
            else:
                customer = self._store({"id": new_id("cus"), "object": "customer", "email": email,
                                        "created": int(time.time()), "livemode": False, "metadata": {}})
                subscription = self._subscription(session, customer["id"], extras)
                invoice = self._invoice(subscription, "subscription_create")
                self._emit("customer.subscription.created", subscription)
                self._emit("invoice.paid", invoice)
                session.update(customer=customer["id"], subscription=subscription["id"], invoice=invoice["id"])
            session.update(status="complete", payment_status="paid", url=None)
            self._emit("checkout.session.completed", session)
            return copy.deepcopy(session)

    def expire_session(self, session_id: str) -> dict:
        with self.lock:
            session = self._open_session(session_id, "session")
            session.update(status="expired", url=None)
            self._emit("checkout.session.expired", session)
            return copy.deepcopy(session)

    # -- what a payment leaves behind ---------------------------------------------------

    def _payment(self, amount: int, currency: str, customer: str | None, metadata: dict) -> dict:
        now = int(time.time())
        intent = self._store({"id": new_id("pi"), "object": "payment_intent", "amount": amount,
                              "amount_received": amount, "currency": currency, "customer": customer,
                              "created": now, "livemode": False, "metadata": metadata,
                              "status": "succeeded", "latest_charge": None})
        charge = self._store({"id": new_id("ch"), "object": "charge", "amount": amount, "amount_captured": amount,
                              "amount_refunded": 0, "currency": currency, "customer": customer, "created": now,
                              "livemode": False, "metadata": {}, "paid": True, "captured": True,
                              "refunded": False, "disputed": False, "status": "succeeded",
                              "payment_intent": intent["id"]})
        intent["latest_charge"] = charge["id"]
        return intent

    def _subscription(self, session: dict, customer: str, extras: dict) -> dict:
        now = int(time.time())
        items = []
        for line in extras["line_items"]:
            recurring = line["price"]["recurring"]
            items.append({"id": new_id("si"), "object": "subscription_item", "price": line["price"],
                          "quantity": line["quantity"], "created": now, "current_period_start": now,
                          "current_period_end": add_interval(now, recurring["interval"],
                                                             recurring["interval_count"])})
        return self._store({
            "id": new_id("sub"), "object": "subscription", "status": "active", "customer": customer,
            "currency": session["currency"], "created": now, "start_date": now, "livemode": False,
            "metadata": extras["subscription_metadata"], "cancel_at_period_end": False, "canceled_at": None,
            "ended_at": None, "cancellation_details": {"reason": None},
            "items": {"object": "list", "data": items, "has_more": False, "url": "/v1/subscription_items"},
            "latest_invoice": None,
        })

    def _invoice(self, subscription: dict, billing_reason: str) -> dict:
        """A paid invoice for the subscription's current period (the caller announces it)."""
        items = subscription["items"]["data"]
        amount = sum(i["price"]["unit_amount"] * i["quantity"] for i in items)
        intent = self._payment(amount, subscription["currency"], subscription["customer"], {})
        now = int(time.time())
        invoice = self._store({
            "id": new_id("in"), "object": "invoice", "status": "paid", "billing_reason": billing_reason,
            "amount_due": amount, "amount_paid": amount, "amount_remaining": 0, "total": amount,
            "currency": subscription["currency"], "customer": subscription["customer"], "created": now,
            "livemode": False, "metadata": {},
            "period_start": items[0]["current_period_start"], "period_end": items[0]["current_period_end"],
            "status_transitions": {"finalized_at": now, "paid_at": now},
            "parent": {"type": "subscription_details", "quote_details": None, "subscription_details": {
                "subscription": subscription["id"], "metadata": copy.deepcopy(subscription["metadata"])}},
        })
        # The current API names an invoice's payment only through invoice payments.
        self._store({"id": new_id("inpay"), "object": "invoice_payment", "invoice": invoice["id"],
                     "amount_paid": amount, "amount_requested": amount, "currency": invoice["currency"],
                     "created": now, "is_default": True, "livemode": False, "status": "paid",
                     "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                     "status_transitions": {"canceled_at": None, "paid_at": now}})
        subscription["latest_invoice"] = invoice["id"]
        return invoice

    # -- subscriptions ------------------------------------------------------------------

    def _active_subscription(self, subscription_id: str) -> dict:
        subscription = self._find("subscription", subscription_id, "subscription_exposed_id")
        if subscription["status"] == "canceled":
            raise StripeError(400, f"The subscription {subscription_id} is already canceled.",
                              code="resource_missing")
        return subscription

    def cancel_subscription(self, subscription_id: str) -> dict:
        with self.lock:
            subscription = self._active_subscription(subscription_id)
            now = int(time.time())
            subscription.update(status="canceled", canceled_at=now, ended_at=now,
                                cancellation_details={"reason": "cancellation_requested"})
            self._emit("customer.subscription.deleted", subscription)
            return copy.deepcopy(subscription)

    def advance_subscription(self, subscription_id: str) -> dict:
        """The next period begins and its invoice is paid (Stripe would do this on the renewal date)."""
        with self.lock:
            subscription = self._active_subscription(subscription_id)
            for item in subscription["items"]["data"]:
                recurring = item["price"]["recurring"]
                item["current_period_start"] = item["current_period_end"]
                item["current_period_end"] = add_interval(item["current_period_end"], recurring["interval"],
                                                          recurring["interval_count"])
            invoice = self._invoice(subscription, "subscription_cycle")
            self._emit("invoice.paid", invoice)
            return copy.deepcopy(invoice)

    # -- refunds and disputes -----------------------------------------------------------

    def charge_for(self, reference: str) -> dict:
        """The charge behind a charge, payment intent, invoice or paid Checkout Session id."""
        obj = self.objects.get(reference)
        kind = obj and obj["object"]
        if kind == "checkout.session":
            obj = self.objects.get(obj["payment_intent"] or obj["invoice"] or "")
            kind = obj and obj["object"]
        if kind == "invoice":
            payment = next(o for o in self.objects.values()
                           if o["object"] == "invoice_payment" and o["invoice"] == obj["id"])
            obj = self.objects[payment["payment"]["payment_intent"]]
            kind = "payment_intent"
        if kind == "payment_intent":
            obj = self.objects[obj["latest_charge"]]
        elif kind != "charge":
            raise StripeError(400, f"No paid charge found for '{reference}'.", code="resource_missing",
                              param="payment")
        return obj

    def refund(self, params: dict) -> dict:
        unknown = set(params) - {"charge", "payment_intent", "amount", "reason", "metadata"}
        if unknown:
            raise StripeError(400, f"Unknown parameter for a refund: {min(unknown)}", param=min(unknown))
        if not params.get("charge") and not params.get("payment_intent"):
            raise StripeError(400, "Name what to refund: payment_intent or charge.")
        with self.lock:
            # As strict as Stripe: a charge parameter takes a charge id, a payment_intent a payment intent's.
            if params.get("charge"):
                charge = self._find("charge", params["charge"], "charge")
            else:
                intent = self._find("payment_intent", params["payment_intent"], "payment_intent")
                charge = self.objects[intent["latest_charge"]]
            remaining = charge["amount"] - charge["amount_refunded"]
            if remaining == 0:
                raise StripeError(400, f"Charge {charge['id']} has already been refunded.",
                                  code="charge_already_refunded")
            amount = _integer(params.get("amount", remaining), "amount")
            if not 0 < amount <= remaining:
                raise StripeError(400, f"A refund of {amount} is more than the {remaining} left to refund "
                                       f"on {charge['id']}.", code="amount_too_large", param="amount")
            refund = self._store({
                "id": new_id("re"), "object": "refund", "amount": amount, "charge": charge["id"],
                "payment_intent": charge["payment_intent"], "currency": charge["currency"],
                "created": int(time.time()), "metadata": _metadata(params.get("metadata")),
                "reason": params.get("reason"), "status": "succeeded"})
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self._emit("charge.refunded", charge)
            return copy.deepcopy(refund)

    def dispute(self, reference: str) -> dict:
        """A cardholder's bank disputes the charge: a chargeback for fraud, as Stripe's test card
        4000000000000259 makes one, with the disputed amount withdrawn at once."""
        with self.lock:
            charge = self.charge_for(reference)
            if charge["disputed"]:
                raise StripeError(400, f"Charge {charge['id']} is already disputed.", code="charge_disputed")
            charge["disputed"] = True
            now = int(time.time())
            amount = charge["amount"] - charge["amount_refunded"]
            dispute_id = new_id("du")
            dispute = self._store({
                "id": dispute_id, "object": "dispute", "amount": amount,
                "balance_transactions": [_dispute_funds(dispute_id, -amount, charge["currency"], now,
                                                        f"Chargeback withdrawal for {charge['id']}", "dispute")],
                "charge": charge["id"], "created": now, "currency": charge["currency"],
                "enhanced_eligibility_types": [],
                "evidence": {**{name: None for name in DISPUTE_EVIDENCE}, "enhanced_evidence": {}},
                "evidence_details": {"due_by": _end_of_day(now + EVIDENCE_DAYS * 86400), "enhanced_eligibility": {},
                                     "has_evidence": False, "past_due": False, "submission_count": 0,
                                     "submission_method": "not_submitted"},
                "intended_submission_method": None, "is_charge_refundable": False, "livemode": False,
                "metadata": {}, "network_reason_code": "10.4", "payment_intent": charge["payment_intent"],
                "payment_method_details": {"type": "card", "card": {
                    "brand": "visa", "case_type": "chargeback", "network": "visa", "network_reason_code": "10.4"}},
                "reason": "fraudulent", "status": "needs_response"})
            self._emit("charge.dispute.created", dispute)
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, outcome: str) -> dict:
        """The card network decides. Won: the funds come back (a second balance transaction),
        `charge.dispute.funds_reinstated` then `charge.dispute.closed`; lost: the funds stay
        withdrawn, `charge.dispute.closed`. The charge stays `disputed`, as at Stripe."""
        if outcome not in ("won", "lost"):
            raise StripeError(400, f"outcome must be won or lost, not {outcome!r}", param="outcome")
        with self.lock:
            dispute = self._find("dispute", dispute_id)
            if dispute["status"] in CLOSED_DISPUTE_STATUSES:
                raise StripeError(400, f"The dispute {dispute_id} is already closed ({dispute['status']}).")
            dispute["status"] = outcome
            if outcome == "won":
                dispute["balance_transactions"].append(_dispute_funds(
                    dispute_id, dispute["amount"], dispute["currency"], int(time.time()),
                    f"Chargeback reversal for {dispute['charge']}", "dispute_reversal"))
                self._emit("charge.dispute.funds_reinstated", dispute)
            self._emit("charge.dispute.closed", dispute)
            return copy.deepcopy(dispute)


# -- reading parameters -------------------------------------------------------------------

def _integer(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise StripeError(400, "Invalid array", param="line_items")


def _metadata(value: Any) -> dict:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param="metadata")
    return {str(k): str(v) for k, v in value.items()}


def _line_item(item: Any, index: int, mode: str) -> dict:
    where = f"line_items[{index}]"
    if not isinstance(item, dict) or "price_data" not in item:
        raise StripeError(400, f"{where}: the stand-in takes prices only as price_data, not saved price ids.",
                          param=f"{where}[price_data]")
    data = item["price_data"]
    quantity = _integer(item.get("quantity", 1), f"{where}[quantity]")
    unit_amount = _integer(data.get("unit_amount"), f"{where}[price_data][unit_amount]")
    if unit_amount < 0 or quantity < 1:
        raise StripeError(400, f"{where}: unit_amount must be 0 or more and quantity at least 1.", param=where)
    if not data.get("currency"):
        raise StripeError(400, f"{where}[price_data][currency] is required.",
                          param=f"{where}[price_data][currency]")
    name = (data.get("product_data") or {}).get("name")
    if not name:
        raise StripeError(400, f"{where}[price_data][product_data][name] is required.",
                          param=f"{where}[price_data][product_data][name]")
    recurring = data.get("recurring")
    if mode == "subscription" and not recurring:
        raise StripeError(400, f"{where}: subscription mode needs a recurring price (price_data[recurring]).",
                          param=f"{where}[price_data][recurring]")
    if mode == "payment" and recurring:
        raise StripeError(400, f"{where}: a recurring price belongs in subscription mode, not payment mode.",
                          param=f"{where}[price_data][recurring]")
    if recurring:
        if recurring.get("interval") not in ("day", "week", "month", "year"):
            raise StripeError(400, "recurring[interval] must be one of day, week, month, year",
                              param=f"{where}[price_data][recurring][interval]")
        recurring = {"interval": recurring["interval"],
                     "interval_count": _integer(recurring.get("interval_count", 1), "interval_count")}
    price = {"id": new_id("price"), "object": "price", "currency": data["currency"].lower(),
             "unit_amount": unit_amount, "recurring": recurring,
             "type": "recurring" if recurring else "one_time", "product": new_id("prod")}
    return {"id": new_id("li"), "object": "item", "description": name, "quantity": quantity,
            "amount_subtotal": unit_amount * quantity, "amount_total": unit_amount * quantity,
            "currency": price["currency"], "price": price}


def _created_matches(created: int, condition: Any) -> bool:
    if not isinstance(condition, dict):
        return created == _integer(condition, "created")
    tests = {"gt": created.__gt__, "gte": created.__ge__, "lt": created.__lt__, "lte": created.__le__}
    for name, bound in condition.items():
        if name not in tests:
            raise StripeError(400, f"created takes gt, gte, lt or lte, not {name}", param=f"created[{name}]")
        if not tests[name](_integer(bound, f"created[{name}]")):
            return False
    return True


def _filter_matches(value: Any, wanted: Any) -> bool:
    """A list filter: a plain value matches exactly; a hash (`payment[type]=payment_intent`)
    matches an object whose field has every key given, as Stripe filters on the keys sent."""
    if isinstance(wanted, dict):
        return isinstance(value, dict) and all(value.get(name) == given for name, given in wanted.items())
    return value == wanted


def _end_of_day(timestamp: int) -> int:
    """23:59:59 UTC of the day `timestamp` falls in, as Stripe sets evidence deadlines."""
    return timestamp - timestamp % 86400 + 86399


def _dispute_funds(dispute_id: str, amount: int, currency: str, now: int, description: str,
                   category: str) -> dict:
    """A dispute's balance transaction: the funds withdrawn (negative) or reinstated. No fee:
    the stand-in charges none (Stripe takes a dispute fee with the withdrawal)."""
    return {"id": new_id("txn"), "object": "balance_transaction", "amount": amount, "available_on": now,
            "balance_type": "payments", "created": now, "currency": currency, "description": description,
            "exchange_rate": None, "fee": 0, "fee_details": [], "net": amount, "reporting_category": category,
            "source": dispute_id, "status": "available", "type": "adjustment"}
