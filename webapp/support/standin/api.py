"""The `/v1` API: Stripe's form-encoded requests in, Stripe's JSON out."""
from __future__ import annotations

import hmac
import json
import re
from functools import partial

from flask import Blueprint, Response, current_app, g, request

from webapp.support.standin.ledger import StripeError

blueprint = Blueprint("standin_api", __name__, url_prefix="/v1")

# What each collection lists and which filters it takes (name -> how to read it from an object).
# Every list also takes `limit`, `starting_after`, `ending_before` and `created` (an exact time, or
# `created[gt|gte|lt|lte]`); a hash filter such as `payment[type]=…` matches on the keys it gives.
COLLECTIONS = {
    "checkout/sessions": ("checkout.session", {
        "status": lambda o: o["status"], "customer": lambda o: o["customer"],
        "customer_details": lambda o: o["customer_details"],
        "payment_intent": lambda o: o["payment_intent"], "subscription": lambda o: o["subscription"]}),
    "subscriptions": ("subscription", {"status": lambda o: o["status"], "customer": lambda o: o["customer"]}),
    "invoices": ("invoice", {
        "status": lambda o: o["status"], "customer": lambda o: o["customer"],
        "subscription": lambda o: ((o["parent"] or {}).get("subscription_details") or {}).get("subscription")}),
    "invoice_payments": ("invoice_payment", {
        "invoice": lambda o: o["invoice"], "status": lambda o: o["status"], "payment": lambda o: o["payment"]}),
    "refunds": ("refund", {"charge": lambda o: o["charge"], "payment_intent": lambda o: o["payment_intent"]}),
    "charges": ("charge", {"customer": lambda o: o["customer"], "payment_intent": lambda o: o["payment_intent"]}),
    "payment_intents": ("payment_intent", {"customer": lambda o: o["customer"]}),
    "customers": ("customer", {"email": lambda o: o["email"]}),
    "disputes": ("dispute", {"charge": lambda o: o["charge"], "payment_intent": lambda o: o["payment_intent"]}),
    "events": ("event", {"type": lambda o: o["type"]}),
}

# The values Stripe takes for an enumerated filter; anything else is a 400 there, so here too
# (a misspelt `status=payed` would otherwise quietly list nothing).
CHOICES = {
    ("checkout/sessions", "status"): ("open", "complete", "expired"),
    ("invoices", "status"): ("draft", "open", "paid", "uncollectible", "void"),
    ("invoice_payments", "status"): ("canceled", "open", "paid"),
}


def standin():
    return current_app.extensions["stripe_standin"]


def api_key() -> str | None:
    """The key, sent as Stripe takes it: a bearer token, or the user name of basic auth (curl -u)."""
    auth = request.authorization
    if auth is None:
        return None
    return auth.token if auth.type == "bearer" else auth.username


def check_key() -> None:
    key = api_key()
    if not key:
        raise StripeError(401, "No API key: send it as 'Authorization: Bearer sk_test_…'.")
    if not hmac.compare_digest(key.encode(), standin().secret_key.encode()):
        raise StripeError(401, f"This is not the stand-in's API key: {key[:8]}…{key[-4:]}")
    g.api_key = key


@blueprint.before_request
def authenticate():
    check_key()
    g.api_request = True
    g.idempotency_key = request.headers.get("Idempotency-Key")


def params() -> dict:
    """Stripe's bracket encoding (`line_items[0][price_data][currency]=usd`) as nested dicts and lists."""
    source = request.form if request.method == "POST" else request.args
    root: dict = {}
    for key, value in source.items(multi=True):
        head, _, rest = key.partition("[")
        path = [head, *re.findall(r"\[([^\[\]]*)\]", "[" + rest)] if rest else [head]
        node = root
        for name in path[:-1]:
            node = node.setdefault(name or str(len(node)), {})
            if not isinstance(node, dict):
                raise StripeError(400, f"Invalid parameter: {key}", param=key)
        node[path[-1] or str(len(node))] = value
    return _with_lists(root)


def _with_lists(node):
    if not isinstance(node, dict):
        return node
    node = {name: _with_lists(value) for name, value in node.items()}
    if node and all(name.isdigit() for name in node):
        return [node[name] for name in sorted(node, key=int)]
    return node


def answer(obj: dict) -> Response:
    return Response(json.dumps(obj, indent=2), 200, mimetype="application/json")


def answer_once(run) -> Response:
    """Run a POST at most once per idempotency key, as Stripe does: the same key with the
    same request answers the saved response (marked `Idempotent-Replayed`); with another
    request it is refused. The ledger's lock is held throughout, so two retries racing each
    other cannot both run."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return answer(run())
    ledger = standin().ledger
    asked = (request.method, request.path, tuple(sorted(request.form.items(multi=True))))
    with ledger.lock:
        saved = ledger.idempotent.get((g.api_key, key))
        if saved is not None:
            first_asked, status, body = saved
            if first_asked != asked:
                raise StripeError(400, f"The idempotency key '{key}' was first used with other parameters; "
                                       "a different request needs a new key.", type="idempotency_error")
            response = Response(body, status, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = answer(run())
        ledger.idempotent[(g.api_key, key)] = (asked, response.status_code, response.get_data(as_text=True))
        return response


def _refuse_expand(given: dict) -> None:
    # Silently ignoring `expand` would hand Plumb an id where Stripe gives an object.
    if "expand" in given:
        raise StripeError(400, "The stand-in does not expand objects; retrieve them by id.", param="expand")


def list_collection(path: str) -> Response:
    kind, filters = COLLECTIONS[path]
    given = params()
    _refuse_expand(given)
    for name, value in given.items():
        allowed = CHOICES.get((path, name))
        if allowed and value not in allowed:
            raise StripeError(400, f"Invalid {name}: must be one of {', '.join(allowed[:-1])} or {allowed[-1]}",
                              param=name)
    return answer(standin().ledger.list(kind, f"/v1/{path}", given, filters))


def retrieve(path: str, object_id: str) -> Response:
    _refuse_expand(params())
    return answer(standin().ledger.get(COLLECTIONS[path][0], object_id))


for _path in COLLECTIONS:
    _name = _path.replace("/", "_")
    blueprint.add_url_rule(f"/{_path}", f"list_{_name}", partial(list_collection, _path), methods=["GET"])
    blueprint.add_url_rule(f"/{_path}/<object_id>", f"retrieve_{_name}", partial(retrieve, _path), methods=["GET"])


@blueprint.post("/checkout/sessions")
def create_session():
    given = params()
    known = {"mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata",
             "customer_email", "payment_intent_data", "subscription_data", "locale", "submit_type",
             "payment_method_types", "billing_address_collection"}
    for name in given:
        if name not in known:
            raise StripeError(400, f"Unknown parameter for a Checkout Session: {name}", param=name)
    hosted_base = standin().public_url or request.host_url.rstrip("/")
    return answer_once(lambda: standin().ledger.create_session(given, hosted_base))


@blueprint.get("/checkout/sessions/<session_id>/line_items")
def session_line_items(session_id: str):
    items = standin().ledger.line_items(session_id)
    return answer({"object": "list", "data": items, "has_more": False,
                   "url": f"/v1/checkout/sessions/{session_id}/line_items"})


@blueprint.post("/checkout/sessions/<session_id>/expire")
def expire_session(session_id: str):
    return answer_once(lambda: standin().ledger.expire_session(session_id))


@blueprint.delete("/subscriptions/<subscription_id>")
def cancel_subscription(subscription_id: str):
    # invoice_now, prorate and cancellation_details change nothing here: there is nothing to prorate.
    return answer(standin().ledger.cancel_subscription(subscription_id))


@blueprint.post("/refunds")
def create_refund():
    given = params()
    return answer_once(lambda: standin().ledger.refund(given))
