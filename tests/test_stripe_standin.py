"""The Stripe stand-in (webapp/support/standin), driven by the official `stripe` library over
real HTTP, its webhooks received by a small server and checked with the library's own
`Webhook.construct_event`, as Plumb's endpoint will check them."""
from __future__ import annotations

import queue
import threading
import time
from urllib.parse import urljoin

import pytest
import requests
import stripe

from tests.servers import in_a_thread
from webapp.support.standin import create_app

KEY = "sk_test_standin_tests"
WEBHOOK_SECRET = "whsec_standin_tests"
SUCCESS_URL = "https://plumb.example/support/thanks?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://plumb.example/support/pledge?again=1"


class Receiver:
    """A webhook endpoint: keeps what it accepted; can be told to fail a few attempts first."""

    def __init__(self):
        self.accepted: queue.Queue[tuple[bytes, str]] = queue.Queue()
        self.failures_to_give = 0
        self.attempts = 0

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.attempts += 1
        if self.failures_to_give > 0:
            self.failures_to_give -= 1
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"down for a moment"]
        self.accepted.put((body, environ.get("HTTP_STRIPE_SIGNATURE", "")))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def next_event(self, event_type: str, timeout: float = 5) -> tuple[stripe.Event, bytes, str]:
        """The next accepted event of this type, verified as Plumb will verify it."""
        deadline = time.monotonic() + timeout
        while True:
            body, header = self.accepted.get(timeout=max(0.01, deadline - time.monotonic()))
            event = stripe.Webhook.construct_event(body, header, WEBHOOK_SECRET, tolerance=300)
            if event.type == event_type:
                return event, body, header

    def drain(self) -> list[bytes]:
        bodies = []
        while not self.accepted.empty():
            bodies.append(self.accepted.get_nowait()[0])
        return bodies


@pytest.fixture(scope="module")
def servers():
    receiver = Receiver()
    with in_a_thread(receiver) as receiver_url:
        app = create_app(KEY, WEBHOOK_SECRET, receiver_url, retry_delays=(0.05, 0.1, 0.2))
        with in_a_thread(app) as base:
            yield base, receiver, app
            app.extensions["stripe_standin"].webhooks.close()


@pytest.fixture
def base(servers):
    url, receiver, _ = servers
    control("post", url, "/reset")
    receiver.drain()
    receiver.failures_to_give = 0
    return url


@pytest.fixture
def receiver(servers):
    return servers[1]


@pytest.fixture
def client(base):
    # No retries: a refusal must surface as the library's exception at once.
    return stripe.StripeClient(KEY, base_addresses={"api": base}, max_network_retries=0)


def control(method: str, base: str, path: str, **json) -> dict:
    response = requests.request(method, f"{base}/_standin{path}", json=json or None,
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert response.ok, response.text
    return response.json()


def one_time(amount: int = 1000, **extra) -> dict:
    return {"mode": "payment", "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
            "client_reference_id": "pledge-key-1", "metadata": {"pledge": "pledge-key-1"},
            "customer_email": "reader@example.org",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": "usd", "unit_amount": amount, "product_data": {"name": "Support Plumb"}}}],
            **extra}


def monthly(amount: int = 2500) -> dict:
    return {"mode": "subscription", "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
            "client_reference_id": "pledge-key-2", "subscription_data": {"metadata": {"pledge": "pledge-key-2"}},
            "line_items": [{"quantity": 1, "price_data": {
                "currency": "usd", "unit_amount": amount, "recurring": {"interval": "month"},
                "product_data": {"name": "Support Plumb monthly"}}}]}


def press(session, action: str, **fields) -> requests.Response:
    """A button on the hosted page, as the browser's form POST sends it."""
    return requests.post(session.url, data={"action": action, **fields}, allow_redirects=False, timeout=5)


def test_a_one_time_session_is_open_with_what_was_asked(client, base):
    session = client.v1.checkout.sessions.create(params=one_time(1000), options={"idempotency_key": "k-1"})
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.currency) == (1000, "usd")
    assert session.metadata["pledge"] == "pledge-key-1"
    assert session.client_reference_id == "pledge-key-1"
    assert session.customer_email == "reader@example.org"
    assert session.url == f"{base}/c/pay/{session.id}"
    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()


def test_a_monthly_session_needs_a_recurring_price_and_a_one_time_one_refuses_it(client):
    session = client.v1.checkout.sessions.create(params=monthly(2500))
    assert (session.mode, session.amount_total, session.subscription) == ("subscription", 2500, None)
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert items.data[0].price.recurring.interval == "month"

    recurring_in_payment = one_time()
    recurring_in_payment["line_items"][0]["price_data"]["recurring"] = {"interval": "month"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=recurring_in_payment)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params={**one_time(), "mode": "subscription"})


def test_the_same_idempotency_key_gives_the_same_session_and_other_parameters_are_refused(client):
    first = client.v1.checkout.sessions.create(params=one_time(1000), options={"idempotency_key": "pledge-key-1"})
    again = client.v1.checkout.sessions.create(params=one_time(1000), options={"idempotency_key": "pledge-key-1"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.checkout.sessions.list().data) == 1

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params=one_time(2500), options={"idempotency_key": "pledge-key-1"})
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_a_wrong_key_is_refused_as_stripe_refuses_it(base):
    wrong = stripe.StripeClient("sk_test_not_this_one", base_addresses={"api": base}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.checkout.sessions.create(params=one_time())
    bare = requests.get(f"{base}/v1/checkout/sessions", timeout=5)
    assert bare.status_code == 401 and bare.json()["error"]["type"] == "invalid_request_error"
    assert requests.post(f"{base}/_standin/reset", timeout=5).status_code == 401


def test_an_unknown_session_is_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nothing")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_paying_on_the_hosted_page_sends_a_signed_completed_event_and_returns_to_success_url(
        client, base, receiver):
    session = client.v1.checkout.sessions.create(params=one_time(1000))
    page = requests.get(session.url, timeout=5)
    assert "Test payment — no money moves" in page.text
    for button in ('value="pay"', 'value="decline"', 'value="cancel"'):
        assert button in page.text

    paid = press(session, "pay")
    assert paid.status_code == 303
    assert paid.headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)

    event, body, header = receiver.next_event("checkout.session.completed")
    assert event.id.startswith("evt_") and event.livemode is False and event.api_version == stripe.api_version
    completed = event.data.object
    assert (completed.id, completed.payment_status, completed.status) == (session.id, "paid", "complete")
    assert completed.payment_intent.startswith("pi_")
    assert completed.metadata["pledge"] == "pledge-key-1"
    assert event.request.id is None  # the reader did it, not an API call
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    assert header.startswith("t=") and ",v1=" in header

    tampered = body.replace(b'"paid"', b'"unpaid"')
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, WEBHOOK_SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_someone_else", tolerance=300)

    # Pressing Pay again (Back, resubmit) changes nothing and sends nothing.
    assert press(session, "pay").status_code == 409
    assert len(control("get", base, "/events")["data"]) == 1


def test_a_declined_card_sends_nothing_and_lets_the_reader_try_again(client, base, receiver):
    session = client.v1.checkout.sessions.create(params=one_time())
    declined = press(session, "decline")
    assert declined.status_code == 303
    page = requests.get(urljoin(session.url, declined.headers["Location"]), timeout=5)
    assert 'role="alert"' in page.text and "Your card was declined" in page.text
    assert 'value="pay"' in page.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert control("get", base, "/events")["data"] == []

    assert press(session, "pay").status_code == 303
    receiver.next_event("checkout.session.completed")


def test_cancel_returns_to_cancel_url_and_leaves_the_session_open(client, base):
    session = client.v1.checkout.sessions.create(params=one_time())
    cancelled = press(session, "cancel")
    assert (cancelled.status_code, cancelled.headers["Location"]) == (303, CANCEL_URL)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert control("get", base, "/events")["data"] == []


def test_expiring_a_session_closes_its_page_and_says_so(client, receiver):
    session = client.v1.checkout.sessions.create(params=one_time())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    event = receiver.next_event("checkout.session.expired")[0]
    assert event.data.object.id == session.id
    assert event.request.id.startswith("req_") and event.request.idempotency_key  # caused by an API call
    assert "expired" in requests.get(session.url, timeout=5).text
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_a_paid_subscription_invoices_renews_and_ends_with_subscription_deleted(client, base, receiver):
    session = client.v1.checkout.sessions.create(params=monthly(2500))
    press(session, "pay")
    completed = receiver.next_event("checkout.session.completed")[0].data.object
    subscription_id = completed.subscription
    assert subscription_id.startswith("sub_") and completed.invoice.startswith("in_")

    invoice = client.v1.invoices.retrieve(completed.invoice)
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == ("paid", 2500, "subscription_create")
    assert invoice.parent.subscription_details.subscription == subscription_id
    assert invoice.parent.subscription_details.metadata["pledge"] == "pledge-key-2"
    subscription = client.v1.subscriptions.retrieve(subscription_id)
    assert (subscription.status, subscription.metadata["pledge"]) == ("active", "pledge-key-2")
    kinds = [e["type"] for e in control("get", base, "/events")["data"]]
    assert kinds == ["customer.subscription.created", "invoice.paid", "checkout.session.completed"]

    renewal = control("post", base, f"/subscriptions/{subscription_id}/advance")
    assert renewal["billing_reason"] == "subscription_cycle" and renewal["period_start"] == invoice.period_end
    invoices = client.v1.invoices.list(params={"subscription": subscription_id})
    assert [i.id for i in invoices.data] == [renewal["id"], invoice.id]

    cancelled = client.v1.subscriptions.cancel(subscription_id)
    assert cancelled.status == "canceled"
    deleted = receiver.next_event("customer.subscription.deleted")[0].data.object
    assert (deleted.id, deleted.status) == (subscription_id, "canceled")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(subscription_id)


def test_refunds_and_disputes_send_their_events(client, base, receiver):
    session = client.v1.checkout.sessions.create(params=one_time(1000))
    control("post", base, f"/checkout/sessions/{session.id}/pay")
    intent = receiver.next_event("checkout.session.completed")[0].data.object.payment_intent

    refund = client.v1.refunds.create(params={"payment_intent": intent, "amount": 400})
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 400, intent)
    charge = receiver.next_event("charge.refunded")[0].data.object
    assert (charge.amount_refunded, charge.refunded, charge.payment_intent) == (400, False, intent)
    assert [r.id for r in client.v1.refunds.list(params={"payment_intent": intent}).data] == [refund.id]

    control("post", base, "/refund", payment=session.id)
    assert receiver.next_event("charge.refunded")[0].data.object.refunded is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent})
    with pytest.raises(stripe.InvalidRequestError):  # as in production: a session is not a payment intent
        client.v1.refunds.create(params={"payment_intent": session.id})

    control("post", base, "/dispute", payment=intent)
    dispute = receiver.next_event("charge.dispute.created")[0].data.object
    assert (dispute.object, dispute.payment_intent) == ("dispute", intent)


def test_a_monthly_refund_leads_back_to_its_subscription_through_invoice_payments(client, base, receiver):
    """The current API names neither invoice nor subscription on a charge: Plumb follows
    charge -> payment intent -> invoice payment -> invoice -> subscription."""
    session = client.v1.checkout.sessions.create(params=monthly(2500))
    control("post", base, f"/checkout/sessions/{session.id}/pay")
    subscription_id = receiver.next_event("checkout.session.completed")[0].data.object.subscription
    renewal = control("post", base, f"/subscriptions/{subscription_id}/advance")

    control("post", base, "/refund", payment=renewal["id"])
    charge = receiver.next_event("charge.refunded")[0].data.object
    payments = client.v1.invoice_payments.list(
        params={"payment": {"type": "payment_intent", "payment_intent": charge.payment_intent}})
    assert [p.invoice for p in payments.data] == [renewal["id"]]
    invoice = client.v1.invoices.retrieve(payments.data[0].invoice)
    assert invoice.parent.subscription_details.subscription == subscription_id


def test_racing_retries_under_one_key_make_one_session(client):
    keys = [f"pledge-{n}" for n in range(6)] * 5
    made: dict[str, set[str]] = {key: set() for key in keys}

    def create(key: str) -> None:
        session = client.v1.checkout.sessions.create(params=one_time(1000), options={"idempotency_key": key})
        made[key].add(session.id)

    threads = [threading.Thread(target=create, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(ids) == 1 for ids in made.values())
    assert len(client.v1.checkout.sessions.list(params={"limit": 100}).data) == 6


def test_auto_paging_walks_every_page_newest_first_and_created_filters(client):
    started = int(time.time())
    made = [client.v1.checkout.sessions.create(params=one_time(100 + n)).id for n in range(23)]
    walked = [s.id for s in client.v1.checkout.sessions.list(params={"limit": 10}).auto_paging_iter()]
    assert walked == made[::-1]
    since_start = {"created": {"gte": started}, "limit": 100}
    assert len(client.v1.checkout.sessions.list(params=since_start).data) == 23
    before_start = {"created": {"lt": started}}
    assert client.v1.checkout.sessions.list(params=before_start).data == []
    future = {"created": {"gt": int(time.time()) + 60}}
    assert client.v1.checkout.sessions.list(params=future).data == []


def test_held_events_can_be_delivered_twice_and_in_any_order(client, base, receiver):
    control("post", base, "/delivery", paused=True)
    first, second = (client.v1.checkout.sessions.create(params=one_time()) for _ in range(2))
    control("post", base, f"/checkout/sessions/{first.id}/pay")
    control("post", base, f"/checkout/sessions/{second.id}/pay")
    events = control("get", base, "/events")["data"]
    assert len(events) == 2 and control("get", base, "/events")["pending"] == 2
    assert receiver.drain() == []

    for event in [events[1], events[0], events[1]]:
        assert control("post", base, f"/events/{event['id']}/deliver")["status"] == 200
    arrived = [receiver.next_event("checkout.session.completed")[0] for _ in range(3)]
    assert [e.id for e in arrived] == [events[1]["id"], events[0]["id"], events[1]["id"]]
    assert arrived[0].to_dict() == arrived[2].to_dict()

    control("post", base, "/delivery", paused=False)
    resumed = {receiver.next_event("checkout.session.completed")[0].id for _ in range(2)}
    assert resumed == {events[0]["id"], events[1]["id"]}


def test_a_failed_delivery_is_tried_again(client, base, receiver):
    receiver.failures_to_give = 2
    session = client.v1.checkout.sessions.create(params=one_time())
    control("post", base, f"/checkout/sessions/{session.id}/pay")
    event = receiver.next_event("checkout.session.completed")[0]
    # The receiver keeps the event before it answers; the stand-in notes the answer just after.
    deadline = time.monotonic() + 5
    while len(attempts := control("get", base, f"/events/{event.id}")["attempts"]) < 3 \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [a.get("status") for a in attempts] == [500, 500, 200]


def test_only_test_keys_are_taken():
    with pytest.raises(ValueError):
        create_app("sk_live_real_money", WEBHOOK_SECRET)


# --- disputes closing, and the lists reconciliation walks ------------------------------------

def paid_once(client, base, receiver, amount: int = 1000) -> str:
    """A paid one-time session; its payment intent."""
    session = client.v1.checkout.sessions.create(params=one_time(amount))
    control("post", base, f"/checkout/sessions/{session.id}/pay")
    return receiver.next_event("checkout.session.completed")[0].data.object.payment_intent


def test_a_dispute_opens_as_a_chargeback_with_the_funds_withdrawn(client, base, receiver):
    intent = paid_once(client, base, receiver, 1000)
    opened = control("post", base, "/dispute", payment=intent)
    dispute = client.v1.disputes.retrieve(opened["id"])
    assert dispute.id.startswith("du_") and dispute.object == "dispute"
    assert (dispute.status, dispute.reason, dispute.amount, dispute.payment_intent) == (
        "needs_response", "fraudulent", 1000, intent)
    assert dispute.is_charge_refundable is False
    assert dispute.evidence_details.due_by > dispute.created and dispute.evidence_details.submission_count == 0
    assert dispute.evidence.uncategorized_text is None
    [withdrawn] = dispute.balance_transactions
    assert (withdrawn.object, withdrawn.amount, withdrawn.type, withdrawn.reporting_category, withdrawn.source) == (
        "balance_transaction", -1000, "adjustment", "dispute", dispute.id)
    assert client.v1.charges.retrieve(dispute.charge).disputed is True
    assert receiver.next_event("charge.dispute.created")[0].data.object.id == dispute.id


def test_a_won_dispute_reinstates_the_funds_then_closes(client, base, receiver):
    intent = paid_once(client, base, receiver, 1500)
    opened = control("post", base, "/dispute", payment=intent)
    receiver.next_event("charge.dispute.created")

    won = control("post", base, f"/disputes/{opened['id']}/close", outcome="won")
    assert won["status"] == "won"
    reinstated = receiver.next_event("charge.dispute.funds_reinstated")[0].data.object
    closed = receiver.next_event("charge.dispute.closed")[0].data.object
    for dispute in (reinstated, closed):
        assert (dispute.id, dispute.status, dispute.payment_intent) == (opened["id"], "won", intent)
        assert [(t.amount, t.reporting_category) for t in dispute.balance_transactions] == [
            (-1500, "dispute"), (1500, "dispute_reversal")]
    kinds = [e["type"] for e in control("get", base, "/events")["data"]]
    assert kinds[-3:] == ["charge.dispute.created", "charge.dispute.funds_reinstated", "charge.dispute.closed"]

    assert client.v1.disputes.retrieve(opened["id"]).status == "won"
    assert client.v1.charges.retrieve(opened["charge"]).disputed is True  # as at Stripe: it was disputed


def test_a_lost_dispute_closes_without_reinstating(client, base, receiver):
    intent = paid_once(client, base, receiver, 1000)
    opened = control("post", base, "/dispute", payment=intent)
    lost = requests.post(f"{base}/_standin/disputes/{opened['id']}/close", data={"outcome": "lost"},
                         auth=(KEY, ""), timeout=5)  # a form, as curl -d sends it
    assert lost.status_code == 200 and lost.json()["status"] == "lost"
    closed = receiver.next_event("charge.dispute.closed")[0].data.object
    assert (closed.id, closed.status, len(closed.balance_transactions)) == (opened["id"], "lost", 1)
    kinds = [e["type"] for e in control("get", base, "/events")["data"]]
    assert kinds[-2:] == ["charge.dispute.created", "charge.dispute.closed"]
    assert "charge.dispute.funds_reinstated" not in kinds
    assert client.v1.charges.retrieve(opened["charge"]).disputed is True


def test_closing_a_dispute_refuses_a_bad_outcome_an_unknown_id_and_a_second_close(client, base, receiver):
    opened = control("post", base, "/dispute", payment=paid_once(client, base, receiver))

    def close(dispute_id: str, **body) -> requests.Response:
        return requests.post(f"{base}/_standin/disputes/{dispute_id}/close", json=body or None,
                             headers={"Authorization": f"Bearer {KEY}"}, timeout=5)

    for bad in ({"outcome": "maybe"}, {}):
        refused = close(opened["id"], **bad)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "outcome"
    missing = close("du_nothing", outcome="won")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"
    assert requests.post(f"{base}/_standin/disputes/{opened['id']}/close", json={"outcome": "won"},
                         timeout=5).status_code == 401

    assert close(opened["id"], outcome="lost").status_code == 200
    again = close(opened["id"], outcome="won")
    assert again.status_code == 400 and "already closed" in again.json()["error"]["message"]
    assert client.v1.disputes.retrieve(opened["id"]).status == "lost"
    kinds = [e["type"] for e in control("get", base, "/events")["data"]]
    assert kinds.count("charge.dispute.closed") == 1 and "charge.dispute.funds_reinstated" not in kinds


def test_disputes_and_refunds_list_by_created_and_page(client, base, receiver):
    intents = [paid_once(client, base, receiver, 100 + n) for n in range(12)]
    started = int(time.time())
    opened = [control("post", base, "/dispute", payment=intent)["id"] for intent in intents]
    refunded = [client.v1.refunds.create(params={"payment_intent": intent, "amount": 50}).id for intent in intents]

    assert [d.id for d in client.v1.disputes.list(params={"limit": 5}).auto_paging_iter()] == opened[::-1]
    since = {"created": {"gte": started}, "limit": 100}
    assert len(client.v1.disputes.list(params=since).data) == 12
    assert client.v1.disputes.list(params={"created": {"gt": int(time.time()) + 60}}).data == []
    assert [d.id for d in client.v1.disputes.list(params={"payment_intent": intents[3]}).data] == [opened[3]]

    assert [r.id for r in client.v1.refunds.list(params={"created": {"gte": started}, "limit": 5})
            .auto_paging_iter()] == refunded[::-1]
    assert client.v1.refunds.list(params={"created": {"lt": started - 3600}}).data == []


def test_invoices_list_by_subscription_status_and_created_page_by_page(client, base, receiver):
    started = int(time.time())
    subscriptions = []
    for amount in (2500, 900):
        session = client.v1.checkout.sessions.create(params=monthly(amount))
        control("post", base, f"/checkout/sessions/{session.id}/pay")
        subscriptions.append(receiver.next_event("checkout.session.completed")[0].data.object)
    first, second = subscriptions
    renewals = [control("post", base, f"/subscriptions/{first.subscription}/advance")["id"] for _ in range(11)]
    control("post", base, f"/subscriptions/{second.subscription}/advance")

    of_first = {"subscription": first.subscription, "status": "paid", "created": {"gte": started}, "limit": 5}
    page = client.v1.invoices.list(params=of_first)
    assert len(page.data) == 5 and page.has_more is True
    walked = [i.id for i in page.auto_paging_iter()]
    assert walked == renewals[::-1] + [first.invoice]
    assert all(i.parent.subscription_details.subscription == first.subscription
               for i in client.v1.invoices.list(params={**of_first, "limit": 100}).data)
    assert len(client.v1.invoices.list(params={"subscription": second.subscription}).data) == 2
    assert len(client.v1.invoices.list(params={"created": {"gte": started}, "limit": 100}).data) == 14
    assert client.v1.invoices.list(params={"status": "void"}).data == []
    assert client.v1.invoices.list(params={"created": {"gt": int(time.time()) + 60}}).data == []
    with pytest.raises(stripe.InvalidRequestError) as misspelt:
        client.v1.invoices.list(params={"status": "payed"})
    assert misspelt.value.param == "status"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.list(params={"subscriptions": first.subscription})

    invoice = client.v1.invoices.retrieve(first.invoice)
    assert "payments" not in invoice  # Stripe includes an invoice's payments only when expanded
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.retrieve(first.invoice, params={"expand": ["payments"]})


def test_invoice_payments_list_by_invoice_and_by_payment(client, base, receiver):
    session = client.v1.checkout.sessions.create(params=monthly(2500))
    control("post", base, f"/checkout/sessions/{session.id}/pay")
    completed = receiver.next_event("checkout.session.completed")[0].data.object
    renewal = control("post", base, f"/subscriptions/{completed.subscription}/advance")

    [payment] = client.v1.invoice_payments.list(params={"invoice": completed.invoice}).data
    assert (payment.object, payment.invoice, payment.status, payment.is_default) == (
        "invoice_payment", completed.invoice, "paid", True)
    assert (payment.amount_paid, payment.amount_requested, payment.payment.type) == (2500, 2500, "payment_intent")
    assert payment.status_transitions.paid_at is not None
    intent = client.v1.payment_intents.retrieve(payment.payment.payment_intent)
    assert (intent.amount_received, intent.status) == (2500, "succeeded")
    assert client.v1.invoice_payments.retrieve(payment.id).to_dict() == payment.to_dict()

    by_payment = client.v1.invoice_payments.list(
        params={"payment": {"type": "payment_intent", "payment_intent": intent.id}})
    assert [p.id for p in by_payment.data] == [payment.id]
    by_type = client.v1.invoice_payments.list(params={"payment": {"type": "payment_intent"}, "status": "paid"})
    assert {p.invoice for p in by_type.data} == {completed.invoice, renewal["id"]}
    assert client.v1.invoice_payments.list(params={"invoice": "in_nothing"}).data == []


def test_checkout_sessions_list_by_created_status_and_email_as_reconciliation_walks_them(client, base, receiver):
    started = int(time.time())
    paid = [client.v1.checkout.sessions.create(params=one_time(100 + n)) for n in range(3)]
    for session in paid:
        control("post", base, f"/checkout/sessions/{session.id}/pay", email="payer@example.org")
    expired = client.v1.checkout.sessions.expire(client.v1.checkout.sessions.create(params=one_time()).id)
    still_open = client.v1.checkout.sessions.create(params=one_time())

    since = {"created": {"gte": started}, "limit": 2}
    walked = [s.id for s in client.v1.checkout.sessions.list(params=since).auto_paging_iter()]
    assert walked == [still_open.id, expired.id] + [s.id for s in paid[::-1]]
    complete = client.v1.checkout.sessions.list(params={**since, "status": "complete"})
    assert [s.id for s in complete.auto_paging_iter()] == [s.id for s in paid[::-1]]
    by_email = client.v1.checkout.sessions.list(params={"customer_details": {"email": "payer@example.org"}})
    assert len(by_email.data) == 3
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "expired"}).data] == [expired.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.list(params={"status": "paid"})
