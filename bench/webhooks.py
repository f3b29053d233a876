"""Stripe webhooks: how many signed events a second Plumb applies, against /healthz in the
same run.

    .venv/bin/python bench/webhooks.py [--events 600] [--threads 20] [--workers 3] [--postgres URL]

Makes N pending one-time pledges (in a temporary SQLite database, or a scratch
PostgreSQL database that it EMPTIES), serves the app with gunicorn as in production, and
sends each pledge's `checkout.session.completed` event, signed as Stripe signs them,
from many threads: first as new events (each activates a pledge and moves the counters
in one transaction), then all of them again (replays: found by event id, changing
nothing). The baseline is as many `/healthz` requests from the same threads, timed just
before. Afterwards the counters must equal the rows (`support check`)."""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.apps import drop, make_app  # noqa: E402
from tests.pledging import make_campaign  # noqa: E402
from tests.readers import make_user  # noqa: E402
from tests.servers import gunicorn  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.support import pledges, providers  # noqa: E402
from webapp.support.choices import Choice  # noqa: E402
from webapp.support.models import Campaign  # noqa: E402
from webapp.support.standin.webhooks import event_body, signature_header  # noqa: E402

SECRET = "whsec_bench"
STRIPE = dict(PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET=SECRET,
              STRIPE_API_BASE="http://127.0.0.1:9")  # never called: the sessions below are made up


class MadeUpCheckout:
    """Stands in for Stripe when the pledges are made: each gets a session id of its own."""

    name = "stripe"

    def commit(self, commitment):
        return providers.Committed(f"cs_bench_{commitment.key}", pay_at="https://checkout.example/pay")


def completed(number: int, key: str) -> dict:
    session = {"id": f"cs_bench_{key}", "object": "checkout.session", "payment_status": "paid",
               "status": "complete", "amount_total": 1000, "currency": "usd", "payment_intent": f"pi_{number}",
               "client_reference_id": key, "metadata": {"pledge": key}}
    return {"id": f"evt_bench_{number}", "object": "event", "type": "checkout.session.completed",
            "data": {"object": session}}


def per_second(label: str, send, items: list, threads: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        statuses = set(pool.map(send, items))
    took = time.perf_counter() - started
    if statuses != {200}:
        raise SystemExit(f"{label}: answers other than 200: {sorted(statuses)}")
    return len(items) / took


def measure(database_url: str | None, events_count: int = 600, threads: int = 20, workers: int = 3) -> dict:
    """Rates a second for /healthz, new events and replays, the counters and `support check`."""
    folder = Path(tempfile.mkdtemp(prefix="plumb-webhooks-"))
    overrides = {"SQLALCHEMY_DATABASE_URI": database_url} if database_url else {}
    app = make_app(folder, **STRIPE, **overrides)
    campaign_id = make_campaign(app)
    readers = [make_user(app, f"reader{n}@example.org", f"Reader {n}") for n in range(20)]
    keys = []
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        for number in range(events_count):
            choice = Choice(amount_cents=1000, frequency="once", key=pledges.new_key())
            pledges.pledge(db.engine, campaign, readers[number % len(readers)], choice, MadeUpCheckout())
            keys.append(choice.key)
    events = [completed(number, key) for number, key in enumerate(keys)]
    database = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]

    with gunicorn(folder, app.config["SQLALCHEMY_DATABASE_URI"], workers=workers, **STRIPE,
                  SITE_URL="https://plumb.example", LOG_LEVEL="WARNING") as server:
        def health(_):
            return requests.get(server.url + "/healthz", timeout=60).status_code

        def deliver(event):
            body = event_body(event)
            signed = signature_header(body, SECRET, int(time.time()))
            return requests.post(server.url + "/support/webhooks/stripe", data=body, timeout=60,
                                 headers={"Stripe-Signature": signed}).status_code

        rates = {"/healthz (baseline)": per_second("/healthz", health, events, threads),
                 "new events": per_second("new events", deliver, events, threads),
                 "replays": per_second("replays", deliver, events, threads)}

    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        counted = (campaign.supporters, campaign.amount_cents)
        drift = pledges.check(db.session)
    drop(app)
    return {"database": database, "rates": rates, "counted": counted, "drift": drift}


def table(measured: dict) -> str:
    baseline = measured["rates"]["/healthz (baseline)"]
    rows = ["| requests | per second | against /healthz |", "|---|---:|---:|"]
    rows += [f"| {label} | {rate:,.0f} | {rate / baseline:.2f}× |" for label, rate in measured["rates"].items()]
    supporters, cents = measured["counted"]
    rows.append(f"\ncounters afterwards: {supporters} supporters, {cents / 100:,.2f} dollars; support check: "
                f"{measured['drift'] or 'clean'}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--postgres", help="a scratch database URL (emptied), instead of SQLite")
    args = parser.parse_args()
    measured = measure(args.postgres, args.events, args.threads, args.workers)
    print(f"# {platform.node()} · {platform.machine()} · {measured['database']} · {args.workers} gunicorn workers · "
          f"{args.threads} threads · {args.events} events · {time.strftime('%Y-%m-%d %H:%M')}\n")
    print(table(measured))
    if measured["drift"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
