"""Test controls under `/_standin/`: what a reader, a bank or Stripe's dashboard would do,
done over HTTP so tests and the demo can make every webhook happen. They take the same
key as the API (`curl -u sk_test_…: -X POST …`), except `health`.

    POST /_standin/checkout/sessions/{id}/pay   {"email": …}       the reader pays
    POST /_standin/refund     {"payment": id, "amount": cents}      charge.refunded
    POST /_standin/dispute    {"payment": id}                       charge.dispute.created
        (id: a Checkout Session, invoice, payment intent or charge)
    POST /_standin/disputes/{id}/close  {"outcome": "won"}          charge.dispute.funds_reinstated,
                                                                     then charge.dispute.closed
                                        {"outcome": "lost"}          charge.dispute.closed
        (the card network's decision; a closed dispute cannot be closed again)
    POST /_standin/subscriptions/{id}/cancel                         customer.subscription.deleted
    POST /_standin/subscriptions/{id}/advance                        the next period's invoice.paid
    GET  /_standin/events?type=…                                     every event, oldest first, with attempts
    GET  /_standin/events/{id}
    POST /_standin/events/{id}/deliver                               deliver once more, now; says how it went
    POST /_standin/delivery   {"paused": true|false}                 hold events (then deliver them by hand)
    POST /_standin/reset                                             forget everything
    GET  /_standin/health"""
from __future__ import annotations

from flask import Blueprint, request

from webapp.support.standin.api import answer, check_key, standin
from webapp.support.standin.ledger import StripeError

blueprint = Blueprint("standin_controls", __name__, url_prefix="/_standin")


@blueprint.before_request
def authenticate():
    if request.endpoint != "standin_controls.health":
        check_key()


def given() -> dict:
    return request.get_json(silent=True) or request.form.to_dict()


def payment_reference() -> str:
    reference = given().get("payment")
    if not reference:
        raise StripeError(400, "Name the payment: {\"payment\": <session, invoice, payment intent or charge id>}",
                          param="payment")
    return reference


@blueprint.get("/health")
def health():
    return answer({"ok": True})


@blueprint.post("/checkout/sessions/<session_id>/pay")
def pay(session_id: str):
    return answer(standin().ledger.pay(session_id, given().get("email")))


@blueprint.post("/refund")
def refund():
    ledger = standin().ledger
    with ledger.lock:
        refund_params = {"charge": ledger.charge_for(payment_reference())["id"]}
    if given().get("amount") is not None:
        refund_params["amount"] = given()["amount"]
    return answer(ledger.refund(refund_params))


@blueprint.post("/dispute")
def dispute():
    return answer(standin().ledger.dispute(payment_reference()))


@blueprint.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id: str):
    return answer(standin().ledger.close_dispute(dispute_id, given().get("outcome")))


@blueprint.post("/subscriptions/<subscription_id>/cancel")
def cancel_subscription(subscription_id: str):
    return answer(standin().ledger.cancel_subscription(subscription_id))


@blueprint.post("/subscriptions/<subscription_id>/advance")
def advance_subscription(subscription_id: str):
    return answer(standin().ledger.advance_subscription(subscription_id))


def _with_attempts(event: dict) -> dict:
    return {**event, "attempts": standin().webhooks.attempts_for(event["id"])}


@blueprint.get("/events")
def events():
    ledger = standin().ledger
    with ledger.lock:
        found = [o for o in ledger.objects.values() if o["object"] == "event"
                 and request.args.get("type") in (None, o["type"])]
        found.sort(key=ledger.rank_of)
        return answer({"data": [_with_attempts(event) for event in found],
                       "paused": standin().webhooks.paused, "pending": standin().webhooks.pending()})


@blueprint.get("/events/<event_id>")
def event(event_id: str):
    return answer(_with_attempts(standin().ledger.get("event", event_id)))


@blueprint.post("/events/<event_id>/deliver")
def deliver(event_id: str):
    event = standin().ledger.get("event", event_id)
    if standin().webhooks.url is None:
        raise StripeError(400, "No webhook URL is set: start the stand-in with --webhook-url.")
    return answer(standin().webhooks.deliver(event))


@blueprint.post("/delivery")
def delivery():
    paused = given().get("paused")
    if paused in (True, "true", "1"):
        standin().webhooks.pause()
    elif paused in (False, "false", "0"):
        standin().webhooks.resume()
    else:
        raise StripeError(400, 'Send {"paused": true} or {"paused": false}.', param="paused")
    return answer({"paused": standin().webhooks.paused, "pending": standin().webhooks.pending()})


@blueprint.post("/reset")
def reset():
    standin().webhooks.clear()
    standin().ledger.reset()
    return answer({"ok": True})
