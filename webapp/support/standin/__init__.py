"""A local stand-in for Stripe, for development, the demo and tests. No money moves.

What it is: one small Flask app that answers the part of Stripe's HTTP API the official
`stripe` library calls for Plumb's pledges, so Plumb's provider code is the same for
production and here, only the API base differs:

    client = stripe.StripeClient("sk_test_…", base_addresses={"api": "http://127.0.0.1:12111"})
    # or, module-level: stripe.api_key = "sk_test_…"; stripe.api_base = "http://127.0.0.1:12111"

- `/v1/checkout/sessions`: create (payment or subscription mode, `price_data` line items),
  retrieve, `expire`, list; `/v1/checkout/sessions/{id}/line_items`.
- `/v1/subscriptions/{id}`: retrieve, cancel (DELETE); `/v1/refunds`: create.
- List (GET, newest first) and retrieve (GET `/{id}`) for `/v1/checkout/sessions`,
  `/v1/subscriptions`, `/v1/invoices`, `/v1/invoice_payments`, `/v1/refunds`, `/v1/charges`,
  `/v1/payment_intents`, `/v1/customers`, `/v1/disputes` and `/v1/events`. Every list takes
  `limit` (1-100, default 10), `starting_after`/`ending_before` (so `auto_paging_iter` walks
  it) and `created` (`created[gte]=…`, `gt`, `lt`, `lte`, or an exact time), and the filters
  Stripe documents for it that Plumb can need: checkout sessions `status`, `customer`,
  `customer_details[email]`, `payment_intent`, `subscription`; subscriptions `status`,
  `customer`; invoices `status`, `customer`, `subscription`; invoice payments `invoice`,
  `status`, `payment[type]`/`payment[payment_intent]`; refunds and disputes `charge`,
  `payment_intent`; charges `customer`, `payment_intent`; payment intents `customer`;
  customers `email`; events `type`. An unknown filter, or a `status` Stripe does not take,
  is a 400. An invoice names its subscription under `parent.subscription_details`; its
  payments are not on it (Stripe includes `payments` only when expanded): list
  `/v1/invoice_payments?invoice=…`, or `?payment[type]=payment_intent&payment[payment_intent]=…`
  to go from a payment back to its invoice.
- Disputes as a card network makes them: opened by a test control (`needs_response`, a
  chargeback for fraud with the amount withdrawn: one balance transaction,
  `charge.dispute.created`), then closed by another as `won` (a second, reinstating balance
  transaction; `charge.dispute.funds_reinstated` then `charge.dispute.closed`) or `lost`
  (`charge.dispute.closed`). The charge keeps `disputed: true` either way, as at Stripe.
- `Authorization: Bearer <the configured sk_test_ key>`; `Idempotency-Key` honoured for
  every `/v1` POST: the same key and parameters answer the first response again, other
  parameters under that key are a 400 `idempotency_error`. Errors use Stripe's JSON, so
  the library raises its own exception classes.
- A hosted checkout page at each session's `url`, "Test payment — no money moves", with
  Pay, Decline and Cancel (`checkout_page.py`).
- Webhooks signed as Stripe signs them, delivered in the background with retries
  (`webhooks.py`), and test controls under `/_standin/` (`controls.py`).

What it is not: Stripe. State lives in memory in one process and is gone at exit; no
card is asked for; amounts are never checked against Stripe's minimums; no taxes,
coupons, saved prices, customers' portals, Connect, automatic renewals or expiries
(`/_standin/subscriptions/{id}/advance` renews, `expire` expires); a failed idempotent
request is not remembered; nothing is expanded (`expand` is a 400). Where it knowingly
differs: no fees (a dispute's balance transactions carry `fee: 0`, where Stripe takes a
dispute fee); a dispute sends no `charge.dispute.funds_withdrawn` or `charge.dispute.updated`,
takes no evidence (no `POST /v1/disputes/{id}` or `/close`) and goes straight from
`needs_response` to `won` or `lost`; a disputed charge can still be refunded (Stripe refuses a
charged-back one); listing subscriptions without `status` includes canceled ones (Stripe
leaves them out unless asked with `status=canceled` or `all`). It takes only `sk_test_`
keys. Nothing in `webapp` imports it; run it with `python -m webapp.support.standin`."""
from __future__ import annotations

import json
from dataclasses import dataclass

import stripe
from flask import Flask, Response, g, request

from webapp.support.standin.ledger import Ledger, StripeError, new_id
from webapp.support.standin.webhooks import Dispatcher


@dataclass
class Standin:
    """What the views share: the ledger, the webhook dispatcher and the settings."""
    ledger: Ledger
    webhooks: Dispatcher
    secret_key: str
    public_url: str | None


def create_app(secret_key: str, webhook_secret: str, webhook_url: str | None = None, *,
               public_url: str | None = None, retry_delays=(1, 5, 25),
               api_version: str = stripe.api_version) -> Flask:
    """`public_url` is where readers' browsers reach this app (the hosted page's address);
    by default the address the API was called at."""
    if not secret_key.startswith("sk_test_"):
        # A live key has no business here, and a typo should not look like one.
        raise ValueError("the stand-in takes only test keys: STRIPE_SECRET_KEY must start with sk_test_")
    if not webhook_secret.startswith("whsec_"):
        raise ValueError("STRIPE_WEBHOOK_SECRET must start with whsec_")

    from webapp.support.standin import api, checkout_page, controls

    app = Flask(__name__)
    webhooks = Dispatcher(webhook_url, webhook_secret, retry_delays=retry_delays)
    app.extensions["stripe_standin"] = Standin(
        ledger=Ledger(webhooks.enqueue, api_version), webhooks=webhooks, secret_key=secret_key,
        public_url=public_url.rstrip("/") if public_url else None)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(controls.blueprint)
    app.register_blueprint(checkout_page.blueprint)

    @app.before_request
    def name_the_request():
        g.request_id = new_id("req")

    @app.after_request
    def add_request_id(response: Response) -> Response:
        response.headers["Request-Id"] = g.get("request_id", "")
        return response

    @app.errorhandler(StripeError)
    def stripe_error(error: StripeError):
        return json_response({"error": error.error}, error.status)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def unknown_url(error):
        if request.path.startswith(("/v1/", "/_standin/")):
            return stripe_error(StripeError(error.code, f"Unrecognized request URL ({request.method}: "
                                                        f"{request.path}). The stand-in answers only the "
                                                        "calls listed in webapp/support/standin/__init__.py."))
        return error

    return app


def json_response(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, indent=2), status, mimetype="application/json")
