"""A webhook storm: Stripe's events for 81 pledges (nine fates, from paid to refunded in part, month or whole), each delivered 1 to 3 times, shuffled,
from 20 threads at once, to 3 gunicorn workers. Afterwards every pledge is in the state
its events say, whatever order they came in, and the counters equal what those states
add up to; `flask support check` agrees. Runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set.

The events are the stand-in's own (webapp/support/standin): real Checkout Sessions paid,
refunded, disputed, renewed, cancelled and expired through the official library, held
rather than sent, then signed afresh for every delivery as Stripe signs them."""
from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from tests.apps import drop, make_app
from tests.pledging import make_campaign
from tests.readers import make_user
from tests.servers import gunicorn, in_a_thread
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.support import pledges, providers
from webapp.support.choices import Choice
from webapp.support.models import Campaign, Pledge
from webapp.support.standin import create_app as standin_app
from webapp.support.standin.webhooks import event_body, signature_header

KEY = "sk_test_plumb_storm"
WEBHOOK_SECRET = "whsec_plumb_storm"
READERS = 30
THREADS = 20
# What happens to each pledge, and what it must end as: (status, cents it counts).
FATES = {
    "paid": ("once", "active", 1000),
    "refunded": ("once", "refunded", 0),
    "partly refunded": ("once", "active", 500),  # 300, then 200 of 1000 given back
    "disputed": ("once", "disputed", 0),
    "expired": ("once", "expired", 0),
    "renewed": ("monthly", "active", 5000),  # two months paid
    "month refunded": ("monthly", "active", 2500),  # two paid, the second given back
    "first refunded": ("monthly", "refunded", 0),  # its subscription then stopped by Plumb
    "ended": ("monthly", "cancelled", 2500),  # the subscription deleted; the month it paid counts
}
# How many events the stand-in records for each fate.
EVENTS = {"paid": 1, "refunded": 2, "partly refunded": 3, "disputed": 2, "expired": 1, "renewed": 4,
          "month refunded": 5, "first refunded": 4, "ended": 4}
EACH = 9


@dataclass(frozen=True)
class Planned:
    key: str
    user_id: int
    fate: str


@pytest.fixture(scope="module")
def standin():
    fake = standin_app(KEY, WEBHOOK_SECRET, None)  # events recorded, not sent: the test sends them
    with in_a_thread(fake) as base:
        yield base


@pytest.fixture
def app(tmp_path, standin):
    requests.post(f"{standin}/_standin/reset", auth=(KEY, ""), timeout=10).raise_for_status()
    app = make_app(tmp_path, PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_API_BASE=standin)
    yield app
    drop(app)


def control(base: str, path: str, **body) -> dict:
    response = requests.post(f"{base}/_standin{path}", json=body or None, auth=(KEY, ""), timeout=10)
    assert response.ok, response.text
    return response.json()


def make_pledges(app, base: str, rng: random.Random) -> list[Planned]:
    """Every pledge made as the pledge route makes it (pending, a Checkout Session each),
    then its fate played out at the stand-in, which records the events that follow."""
    campaign_id = make_campaign(app)
    users = [make_user(app, f"storm{n}@example.org", f"Storm {n}") for n in range(READERS)]
    planned = []
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        stripe = providers.get(providers.STRIPE)
        for fate, (frequency, _, _) in FATES.items():
            for _ in range(EACH):
                choice = Choice(amount_cents=2500 if frequency == "monthly" else 1000, frequency=frequency,
                                key=pledges.new_key())
                user_id = rng.choice(users)
                outcome = pledges.pledge(db.engine, campaign, user_id, choice, stripe)
                assert outcome.status == "pending" and outcome.pay_at
                planned.append(Planned(choice.key, user_id, fate))
        sessions = dict(db.session.execute(select(Pledge.idempotency_key, Pledge.provider_ref)).all())
    for one in planned:
        session = sessions[one.key]
        if one.fate == "expired":
            stripe.client.v1.checkout.sessions.expire(session)
            continue
        paid = control(base, f"/checkout/sessions/{session}/pay")
        if one.fate in ("refunded", "first refunded"):
            control(base, "/refund", payment=session)
        elif one.fate == "partly refunded":
            control(base, "/refund", payment=session, amount=300)
            control(base, "/refund", payment=session, amount=200)
        elif one.fate == "month refunded":
            renewal = control(base, f"/subscriptions/{paid['subscription']}/advance")
            control(base, "/refund", payment=renewal["id"])
        elif one.fate == "disputed":
            control(base, "/dispute", payment=session)
        elif one.fate == "renewed":
            control(base, f"/subscriptions/{paid['subscription']}/advance")
        elif one.fate == "ended":
            control(base, f"/subscriptions/{paid['subscription']}/cancel")
    return planned


def storm(url: str, events: list[dict], rng: random.Random) -> Counter:
    """Every event 1 to 3 times, shuffled, 20 at a time; a 503 is sent again, as Stripe would."""
    deliveries = [event for event in events for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)

    def send(event: dict) -> list[int]:
        body = event_body(event)
        statuses = []
        for _ in range(20):
            answer = requests.post(f"{url}/support/webhooks/stripe", data=body, timeout=60, headers={
                "Content-Type": "application/json",
                "Stripe-Signature": signature_header(body, WEBHOOK_SECRET, int(time.time()))})
            statuses.append(answer.status_code)
            if answer.status_code != 503:
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")) / 10)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(send, deliveries))
    assert len(deliveries) >= 300, len(deliveries)
    return Counter(status for statuses in answers for status in statuses)


def test_a_storm_of_replayed_shuffled_webhooks_ends_in_the_states_the_events_say(app, standin, tmp_path):
    rng = random.Random(13)
    planned = make_pledges(app, standin, rng)
    listed = requests.get(f"{standin}/_standin/events", auth=(KEY, ""), timeout=10).json()["data"]
    events = [{k: v for k, v in event.items() if k != "attempts"} for event in listed]
    assert len(events) == EACH * sum(EVENTS.values())

    with gunicorn(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], PAYMENT_PROVIDER="stripe",
                  STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=standin,
                  SITE_URL="https://plumb.example") as server:
        try:
            statuses = storm(server.url, events, rng)
            assert set(statuses) <= {200, 503} and statuses[200] >= 300, statuses
            output = server.output()
            assert "Traceback" not in output and "WORKER TIMEOUT" not in output
        except BaseException:
            print(f"--- gunicorn output ---\n{server.output()}")
            raise

    with app.app_context():
        rows = {row.idempotency_key: row for row in db.session.scalars(select(Pledge))}
        ended = {one.key: (rows[one.key].status, rows[one.key].counted_cents) for one in planned}
        wanted = {one.key: FATES[one.fate][1:] for one in planned}
        assert ended == wanted, Counter((wanted[k], v) for k, v in ended.items() if v != wanted[k])
        campaign = db.session.scalars(select(Campaign)).one()
        # Money received and kept counts whatever became of the pledge; supporters are the active.
        assert campaign.amount_cents == sum(FATES[one.fate][2] for one in planned)
        active = [one for one in planned if FATES[one.fate][1] == "active"]
        assert campaign.supporters == len({one.user_id for one in active})
        stopped = [rows[one.key].subscription_ref for one in planned if one.fate == "first refunded"]
    stripe = providers.StripeCheckout(KEY, "https://plumb.example", standin)
    assert {stripe.client.v1.subscriptions.retrieve(ref).status for ref in stopped} == {"canceled"}
    check = app.test_cli_runner().invoke(args=["support", "check"])
    assert check.exit_code == 0 and "all counters agree" in check.output, check.output
    since = (utcnow() - dt.timedelta(hours=1)).isoformat()
    agree = app.test_cli_runner().invoke(args=["support", "reconcile", "--since", since])
    assert agree.exit_code == 0 and "the pledges agree with Stripe" in agree.output, agree.output
