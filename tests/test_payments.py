"""Pledges paid through Stripe Checkout, against the local stand-in over real HTTP.

The stand-in (webapp/support/standin) runs in a thread; its webhooks go to the test's own
Plumb app, served in a thread too. Delivery is paused, so each test decides which events
arrive, when, how often and in what order (`/_standin/events/{id}/deliver` sends one,
freshly signed, over HTTP, as Stripe would); the hostile ones are posted by hand."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
import stripe
from sqlalchemy import func, select, update

from tests.apps import drop, make_app
from tests.pages import HTMX, checked, csrf_token, field, part, text_of
from tests.pledging import counters, make_campaign, pledge_rows, post_pledge, widget
from tests.readers import sign_in
from tests.servers import in_a_thread
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.support import pledges as pledge_service, providers
from webapp.support.models import PaymentEvent, Pledge
from webapp.support.standin import create_app as standin_app
from webapp.support.standin.webhooks import event_body, signature_header

KEY = "sk_test_plumb_payments"
WEBHOOK_SECRET = "whsec_plumb_payments"


class Forward:
    """The webhook address the stand-in knows: forwards to whichever app the test made."""

    target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


@pytest.fixture(scope="module")
def standin():
    forward = Forward()
    with in_a_thread(forward) as plumb_url:
        fake = standin_app(KEY, WEBHOOK_SECRET, plumb_url + "/support/webhooks/stripe", retry_delays=(0.05, 0.1))
        with in_a_thread(fake) as base:
            yield base, forward
            fake.extensions["stripe_standin"].webhooks.close()


@pytest.fixture
def base(standin):
    url, _ = standin
    control("post", url, "/reset")
    control("post", url, "/delivery", paused=True)
    return url


@pytest.fixture
def app(tmp_path, standin, base):
    _, forward = standin
    app = make_app(tmp_path, PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_API_BASE=base)
    forward.target = app
    yield app
    forward.target = None
    drop(app)


@pytest.fixture
def reader(app, client, campaign):
    sign_in(app, client, name="Rea Der")
    return campaign


def control(method: str, base: str, path: str, **json_body) -> dict:
    response = requests.request(method, f"{base}/_standin{path}", json=json_body or None,
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert response.ok, response.text
    return response.json()


def stripe_client(base: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": base}, max_network_retries=0)


def events(base: str, kind: str | None = None) -> list[dict]:
    return [e for e in control("get", base, "/events")["data"] if kind in (None, e["type"])]


def deliver(base: str, event: dict) -> int:
    """One delivery of `event` to Plumb, now, signed afresh; Plumb's answer."""
    return control("post", base, f"/events/{event['id']}/deliver")["status"]


def deliver_all(base: str) -> None:
    for event in events(base):
        assert deliver(base, event) == 200


def pledge_through_checkout(client, amount="1000", frequency="once", **fields) -> tuple[Pledge, str]:
    """The pledge form, posted as a browser without JavaScript does: off to the hosted page."""
    answer = post_pledge(client, amount=amount, frequency=frequency, htmx=False, **fields)
    assert answer.status_code == 303, answer.status_code
    return answer.headers["Location"]


def the_pledge(app) -> Pledge:
    [row] = pledge_rows(app)
    return row


def kept_events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PaymentEvent))


def consistent(app) -> bool:
    with app.app_context():
        return pledge_service.check(db.session) == []


def wall_text(client) -> str:
    return part(text_of(client.get("/support")), '<section id="wall"')


# --- a one-time pledge, start to end ---------------------------------------------------------

def test_a_pledge_waits_counted_nowhere_until_stripe_says_it_is_paid(app, client, reader, base):
    pay_at = pledge_through_checkout(client, public_name="Ada Paid", message="Keep going")
    pledge = the_pledge(app)
    assert pay_at.startswith(base + "/c/pay/cs_test_") and pay_at.endswith(pledge.provider_ref)
    assert "Test payment — no money moves" in requests.get(pay_at, timeout=10).text
    assert pledge.status == "pending" and pledge.counted_cents == 0

    # Pending: no count, no wall, no "thank you for supporting", but its owner sees it waiting.
    assert counters(app) == (0, 0)
    assert "Ada Paid" not in wall_text(client)
    assert "Thank you for supporting" not in text_of(widget(client))
    assert "Waiting for payment" in text_of(client.get("/support/mine"))
    waiting = text_of(client.get(f"/support/thanks?session_id={pledge.provider_ref}"))
    assert "Thank you — confirming your payment of $10 one time…" in waiting
    assert 'hx-trigger="every 2s"' in waiting and ">Refresh</a>" in waiting

    control("post", base, f"/checkout/sessions/{pledge.provider_ref}/pay")
    deliver_all(base)

    assert counters(app) == (1, 1000) and consistent(app)
    assert the_pledge(app).status == "active"
    arrived = client.get(f"/support/thanks?session_id={pledge.provider_ref}", headers=HTMX)
    assert "has arrived and is counted" in text_of(arrived)
    assert "every 2s" not in text_of(arrived)  # polling stops
    assert arrived.headers["HX-Trigger"] == "pledged"  # the bars catch up
    assert arrived.headers["HX-Trigger-After-Settle"] == "support-changed"  # the widget says thank you
    assert "Ada Paid" in wall_text(client) and "Keep going" in wall_text(client)
    assert "Thank you for supporting" in text_of(widget(client))


@pytest.mark.parametrize("minutes, asks", [(1, 'hx-trigger="every 2s"'), (5, 'hx-trigger="every 15s"'), (20, None)])
def test_the_thank_you_asks_less_often_then_stops_while_the_webhook_does_not_come(app, client, reader, base,
                                                                                 minutes, asks):
    """Found in review: it asked every 2 s for as long as the pledge could wait (a day)."""
    pledge_through_checkout(client)
    pledge = the_pledge(app)
    with app.app_context():
        db.session.execute(update(Pledge).where(Pledge.id == pledge.id)
                           .values(created_at=utcnow() - dt.timedelta(minutes=minutes)))
        db.session.commit()
    waiting = text_of(client.get(f"/support/thanks?session_id={pledge.provider_ref}", headers=HTMX))
    if asks:
        assert asks in waiting
    else:
        assert "hx-trigger" not in waiting and "once Stripe confirms it" in waiting


def test_the_checkout_session_carries_the_pledge_key_and_returns_to_site_url(app, client, reader, base):
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    pledge = the_pledge(app)
    session = stripe_client(base).v1.checkout.sessions.retrieve(pledge.provider_ref)
    assert session.mode == "subscription" and session.amount_total == 2500
    assert session.client_reference_id == pledge.reference and session.metadata["pledge"] == pledge.reference
    assert session.success_url == "https://plumb.example/support/thanks?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == f"https://plumb.example/support?pledge={pledge.reference}#support-widget"
    assert session.customer_email == "reader@example.org"


def test_htmx_is_told_where_to_pay_and_the_same_form_again_goes_to_the_same_page(app, client, reader, base):
    form = {"csrf_token": field(text_of(widget(client, full=1)), "csrf_token"),
            "key": field(text_of(widget(client, full=1)), "key")}
    first = post_pledge(client, form=form)
    assert first.status_code == 200 and first.headers["HX-Redirect"].startswith(base + "/c/pay/")
    again = post_pledge(client, form=form)
    assert again.headers["HX-Redirect"] == first.headers["HX-Redirect"]
    assert len(pledge_rows(app)) == 1
    assert len(stripe_client(base).v1.checkout.sessions.list().data) == 1


def test_cancel_on_the_hosted_page_returns_to_the_form_with_the_choices_and_the_key(app, client, reader, base):
    pay_at = pledge_through_checkout(client, amount="custom", custom_amount="12.50", public_name="Kept Name")
    back = requests.post(pay_at, data={"action": "cancel"}, allow_redirects=False, timeout=10)
    assert back.status_code == 303
    returned = back.headers["Location"].removeprefix("https://plumb.example")
    page = text_of(client.get(returned))
    assert "Your payment was cancelled and nothing was charged" in page
    assert field(page, "key") == the_pledge(app).reference
    assert field(page, "custom_amount") == "12.50" and field(page, "public_name") == "Kept Name"
    assert counters(app) == (0, 0)


def test_after_cancel_a_changed_amount_makes_a_new_payment_page_and_the_old_one_cannot_be_paid(app, client, reader,
                                                                                                base):
    old_page = pledge_through_checkout(client, amount="1000")
    old = the_pledge(app)
    back = requests.post(old_page, data={"action": "cancel"}, allow_redirects=False, timeout=10)
    form = text_of(client.get(back.headers["Location"].removeprefix("https://plumb.example")))
    changed = {"csrf_token": field(form, "csrf_token"), "key": field(form, "key")}
    first = post_pledge(client, amount="2500", form=changed, htmx=False)
    again = post_pledge(client, amount="2500", form=changed, htmx=False)  # a double click: the same new page
    assert first.status_code == again.status_code == 303, first.status_code
    assert first.headers["Location"] == again.headers["Location"] != old_page
    rows = {row.reference: row for row in pledge_rows(app)}
    assert rows[old.reference].status == "expired" and len(rows) == 2
    [new] = [row for row in rows.values() if row.reference != old.reference]
    assert (new.status, new.amount_cents) == ("pending", 2500)
    assert requests.post(old_page, data={"action": "pay"}, allow_redirects=False, timeout=10).status_code >= 400
    assert stripe_client(base).v1.checkout.sessions.retrieve(old.provider_ref).status == "expired"
    # Cancelled again, the form comes back with the new pledge's key and choices.
    back = requests.post(first.headers["Location"], data={"action": "cancel"}, allow_redirects=False, timeout=10)
    form = text_of(client.get(back.headers["Location"].removeprefix("https://plumb.example")))
    assert field(form, "key") == new.reference and checked(form, "amount") == "2500"
    requests.post(first.headers["Location"], data={"action": "pay"}, allow_redirects=False, timeout=10)
    deliver_all(base)
    assert counters(app) == (1, 2500) and consistent(app)
    assert "$10" not in part(text_of(client.get("/support/mine")), "<main")


def test_changing_the_amount_of_a_pledge_paid_meanwhile_in_another_tab_is_refused(app, client, reader, base):
    pay_at = pledge_through_checkout(client, amount="1000")
    key = the_pledge(app).reference
    requests.post(pay_at, data={"action": "pay"}, allow_redirects=False, timeout=10)  # the other tab
    refused = post_pledge(client, amount="2500", form={"csrf_token": csrf_token(client), "key": key}, htmx=False)
    assert refused.status_code == 409 and len(pledge_rows(app)) == 1
    deliver_all(base)
    assert counters(app) == (1, 1000) and consistent(app)


def test_a_declined_card_counts_nothing_and_the_form_can_be_sent_again(app, client, reader, base):
    pay_at = pledge_through_checkout(client)
    declined = requests.post(pay_at, data={"action": "decline"}, allow_redirects=False, timeout=10)
    assert declined.status_code == 303
    assert events(base) == [] and counters(app) == (0, 0)
    form = text_of(widget(client, full=1))  # the kept draft: the same key
    assert field(form, "key") == the_pledge(app).reference
    assert post_pledge(client, form={"csrf_token": field(form, "csrf_token"), "key": field(form, "key")},
                       htmx=False).headers["Location"] == pay_at


@pytest.mark.parametrize("url", ["/support", "/about", "/q/why-is-the-sky-blue"])
def test_every_page_lets_its_pledge_form_lead_to_the_hosted_page_without_javascript(app, client, reader, base, url):
    """The widget's form is on every page; without JavaScript its POST is answered with a
    redirect to the hosted page, which the browser follows only if form-action allows it."""
    policy = client.get(url).headers["Content-Security-Policy"]
    assert f"form-action 'self' {base};" in policy  # the redirect after the POST is allowed
    assert "script-src 'self';" in policy  # the rest is as strict as ever


# --- webhooks: once, in any order -------------------------------------------------------------

def test_a_replayed_event_changes_nothing(app, client, reader, base):
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    for event in events(base) * 3:
        assert deliver(base, event) == 200
    control("post", base, f"/subscriptions/{the_pledge(app).subscription_ref}/advance")
    [renewal] = [e for e in events(base, "invoice.paid") if e["data"]["object"]["billing_reason"] == "subscription_cycle"]
    for _ in range(3):  # the one event whose effect is to add: only the event's kept id stops it
        assert deliver(base, renewal) == 200
    assert counters(app) == (1, 5000) and consistent(app)
    assert kept_events(app) == 3  # completed, the first invoice, the renewal; never a copy


def test_a_monthly_pledge_counts_each_month_once_and_ends_when_cancelled_keeping_what_it_paid(app, client, reader,
                                                                                              base):
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    for event in reversed(events(base)):  # completed, then the first invoice (already counted by it)
        assert deliver(base, event) == 200
    pledge = the_pledge(app)
    assert (pledge.status, pledge.subscription_ref[:4]) == ("active", "sub_") and counters(app) == (1, 2500)

    control("post", base, f"/subscriptions/{pledge.subscription_ref}/advance")
    [renewal] = [e for e in events(base, "invoice.paid") if e["data"]["object"]["billing_reason"] == "subscription_cycle"]
    assert deliver(base, renewal) == 200 and deliver(base, renewal) == 200
    assert counters(app) == (1, 5000) and consistent(app)

    cancelled = client.post(f"/support/pledges/{pledge.reference}/cancel",
                            data={"csrf_token": csrf_token(client), "confirm": "yes"})
    assert cancelled.status_code == 303
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "canceled"
    # No longer a supporter; the two months it paid were received, and stay counted.
    assert counters(app) == (0, 5000) and the_pledge(app).status == "cancelled"
    assert "the $50 it paid still counts toward the goal." in text_of(client.get("/support/mine"))
    [deleted] = events(base, "customer.subscription.deleted")
    assert deliver(base, deleted) == 200
    assert counters(app) == (0, 5000) and consistent(app)


def test_a_later_month_paid_before_the_checkout_completed_is_held_and_counted_once_active(app, client, reader, base):
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    subscription = events(base, "checkout.session.completed")[0]["data"]["object"]["subscription"]
    control("post", base, f"/subscriptions/{subscription}/advance")
    for event in reversed(events(base)):  # the renewal first, while the pledge is pending
        assert deliver(base, event) == 200
        assert deliver(base, event) == 200
    assert the_pledge(app).status == "active" and counters(app) == (1, 5000) and consistent(app)


@pytest.mark.parametrize("order", ["as sent", "deleted first, completed last"])
def test_a_subscription_deleted_soon_after_its_checkout_ends_alike_in_any_order(app, client, reader, base, order):
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    subscription = events(base, "checkout.session.completed")[0]["data"]["object"]["subscription"]
    control("post", base, f"/subscriptions/{subscription}/cancel")
    sent = events(base)
    for event in (sent if order == "as sent" else reversed(sent)):
        assert deliver(base, event) == 200
    # Cancelled, not a supporter; the month it paid was received and counts.
    assert the_pledge(app).status == "cancelled" and counters(app) == (0, 2500) and consistent(app)


def test_a_refund_takes_the_pledge_back_out_of_the_counts_and_off_the_wall(app, client, reader, base):
    pledge_through_checkout(client, public_name="Refunded Reader")
    session_id = the_pledge(app).provider_ref
    control("post", base, f"/checkout/sessions/{session_id}/pay")
    deliver_all(base)
    assert counters(app) == (1, 1000) and "Refunded Reader" in wall_text(client)

    control("post", base, "/refund", payment=session_id)
    [refunded] = events(base, "charge.refunded")
    assert deliver(base, refunded) == 200
    assert the_pledge(app).status == "refunded" and counters(app) == (0, 0) and consistent(app)
    assert "Refunded Reader" not in wall_text(client)
    assert "Refunded" in text_of(client.get("/support/mine"))


def test_a_refund_that_arrives_before_the_payment_ends_refunded_and_uncounted(app, client, reader, base):
    pledge_through_checkout(client)
    session_id = the_pledge(app).provider_ref
    control("post", base, f"/checkout/sessions/{session_id}/pay")
    control("post", base, "/refund", payment=session_id)
    for event in reversed(events(base)):  # the refund first: Plumb asks Stripe whose payment it is
        assert deliver(base, event) == 200
    assert the_pledge(app).status == "refunded" and counters(app) == (0, 0) and consistent(app)


def test_a_refunded_later_month_is_traced_back_through_stripe_and_only_that_month_comes_out(app, client, reader, base):
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    deliver_all(base)
    renewal = control("post", base, f"/subscriptions/{the_pledge(app).subscription_ref}/advance")
    control("post", base, "/refund", payment=renewal["id"])  # the charge names only its payment intent
    for event in events(base)[-2:]:
        assert deliver(base, event) == 200
    # That month comes out; the first stays counted, and the subscription goes on.
    pledge = the_pledge(app)
    assert pledge.status == "active" and counters(app) == (1, 2500) and consistent(app)
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "active"


def test_a_partial_refund_leaves_the_pledge_active_counting_what_was_kept(app, client, reader, base):
    pledge_through_checkout(client)
    session_id = the_pledge(app).provider_ref
    control("post", base, f"/checkout/sessions/{session_id}/pay")
    control("post", base, "/refund", payment=session_id, amount=300)
    deliver_all(base)
    assert the_pledge(app).status == "active" and counters(app) == (1, 700) and consistent(app)
    assert "Paid; $3 of it was refunded, so $7 counts." in text_of(client.get("/support/mine"))


def test_a_dispute_takes_the_pledge_back_out(app, client, reader, base):
    pledge_through_checkout(client)
    session_id = the_pledge(app).provider_ref
    control("post", base, f"/checkout/sessions/{session_id}/pay")
    control("post", base, "/dispute", payment=session_id)
    deliver_all(base)
    assert the_pledge(app).status == "disputed" and counters(app) == (0, 0) and consistent(app)


def test_partial_refunds_in_any_order_take_out_what_was_given_back_and_the_last_ends_it(app, client, reader, base):
    pledge_through_checkout(client)
    session_id = the_pledge(app).provider_ref
    control("post", base, f"/checkout/sessions/{session_id}/pay")
    control("post", base, "/refund", payment=session_id, amount=300)
    control("post", base, "/refund", payment=session_id, amount=200)
    for event in reversed(events(base)):  # the second refund first: its running total says 500
        assert deliver(base, event) == 200
    assert the_pledge(app).status == "active" and counters(app) == (1, 500) and consistent(app)
    control("post", base, "/refund", payment=session_id)  # the rest
    assert deliver(base, events(base, "charge.refunded")[-1]) == 200
    assert the_pledge(app).status == "refunded" and counters(app) == (0, 0) and consistent(app)


def test_refunding_the_only_month_paid_ends_the_pledge_and_stops_its_subscription(app, client, reader, base):
    pledge = paid_monthly(app, client, base)
    control("post", base, "/refund", payment=pledge.provider_ref)
    assert deliver(base, events(base, "charge.refunded")[-1]) == 200
    assert the_pledge(app).status == "refunded" and counters(app) == (0, 0) and consistent(app)
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "canceled"
    [deleted] = events(base, "customer.subscription.deleted")  # Stripe's word on our cancellation
    assert deliver(base, deleted) == 200
    assert the_pledge(app).status == "refunded" and counters(app) == (0, 0) and consistent(app)


def test_a_subscription_stripe_cannot_stop_now_is_a_503_and_the_retried_event_stops_it(app, client, reader, base,
                                                                                     monkeypatch):
    pledge = paid_monthly(app, client, base)
    control("post", base, "/refund", payment=pledge.provider_ref)
    [refunded] = events(base, "charge.refunded")
    real_cancel = the_provider(app).client.v1.subscriptions.cancel

    def unreachable(*args, **kwargs):
        raise stripe.APIConnectionError("no route to Stripe")
    monkeypatch.setattr(the_provider(app).client.v1.subscriptions, "cancel", unreachable)
    assert deliver(base, refunded) == 503
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "active"
    monkeypatch.setattr(the_provider(app).client.v1.subscriptions, "cancel", real_cancel)
    assert deliver(base, refunded) == 200  # Stripe's retry: a replay, which asks again
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "canceled"
    assert the_pledge(app).status == "refunded" and counters(app) == (0, 0) and consistent(app)


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_dispute_takes_a_payment_out_until_it_is_won(app, client, reader, base, outcome):
    pledge_through_checkout(client, public_name="Disputed Reader")
    session_id = the_pledge(app).provider_ref
    control("post", base, f"/checkout/sessions/{session_id}/pay")
    dispute = control("post", base, "/dispute", payment=session_id)
    deliver_all(base)
    assert the_pledge(app).status == "disputed" and counters(app) == (0, 0) and consistent(app)
    assert "Disputed Reader" not in wall_text(client)
    control("post", base, f"/disputes/{dispute['id']}/close", outcome=outcome)
    for event in events(base):
        if event["type"].startswith("charge.dispute."):
            assert deliver(base, event) == 200
    if outcome == "won":
        assert the_pledge(app).status == "active" and counters(app) == (1, 1000)
        assert "Disputed Reader" in wall_text(client)
    else:
        assert the_pledge(app).status == "disputed" and counters(app) == (0, 0)
    assert consistent(app)


def test_a_disputed_month_ends_a_monthly_pledge_stops_its_subscription_and_a_win_gives_the_money_back(app, client,
                                                                                                     reader, base):
    pledge = paid_monthly(app, client, base)
    renewal = control("post", base, f"/subscriptions/{pledge.subscription_ref}/advance")
    dispute = control("post", base, "/dispute", payment=renewal["id"])
    deliver_all(base)
    assert the_pledge(app).status == "disputed" and counters(app) == (0, 2500) and consistent(app)
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "canceled"
    control("post", base, f"/disputes/{dispute['id']}/close", outcome="won")
    deliver_all(base)
    # Both months were paid and kept; the subscription is over, so it is no supporter now.
    assert the_pledge(app).status == "cancelled" and counters(app) == (0, 5000) and consistent(app)


def test_an_expired_session_expires_the_pledge_and_my_support_no_longer_lists_it(app, client, reader, base):
    pledge_through_checkout(client)
    stripe_client(base).v1.checkout.sessions.expire(the_pledge(app).provider_ref)
    deliver_all(base)
    assert the_pledge(app).status == "expired" and counters(app) == (0, 0)
    assert "Waiting for payment" not in text_of(client.get("/support/mine"))


def test_an_unknown_event_type_is_answered_and_not_kept(app, client):
    answer = post_signed(client, {"id": "evt_unknown", "object": "event", "type": "customer.created",
                                  "data": {"object": {"id": "cus_1", "object": "customer"}}})
    assert answer.status_code == 200 and kept_events(app) == 0


# --- expiry -------------------------------------------------------------------------------------

def test_pending_pledges_older_than_a_day_expire_by_command_and_when_read(app, client, reader, base, runner):
    pledge_through_checkout(client)
    with app.app_context():
        db.session.execute(Pledge.__table__.update().values(created_at=utcnow() - dt.timedelta(hours=25)))
        db.session.commit()
    assert "Waiting for payment" not in text_of(client.get("/support/mine"))  # expired as it is read
    assert the_pledge(app).status == "expired"

    second = sign_in(app, app.test_client(), email="second@example.org", name="Sec Ond")
    with app.app_context():
        db.session.execute(Pledge.__table__.update().values(status="pending", user_id=second))
        db.session.commit()
    result = runner.invoke(args=["support", "expire"])
    assert result.exit_code == 0 and "1 pending pledge expired" in result.output
    assert the_pledge(app).status == "expired" and counters(app) == (0, 0)


def test_sending_an_expired_pledges_form_again_asks_for_a_fresh_pledge(app, client, reader, base):
    form = {"csrf_token": field(text_of(widget(client, full=1)), "csrf_token"),
            "key": field(text_of(widget(client, full=1)), "key")}
    post_pledge(client, form=form)
    stripe_client(base).v1.checkout.sessions.expire(the_pledge(app).provider_ref)
    deliver_all(base)
    again = post_pledge(client, form=form)
    assert again.status_code == 409 and "not paid in time" in text_of(again)
    assert "HX-Redirect" not in again.headers
    assert field(text_of(again), "key") != form["key"]  # a fresh form
    assert counters(app) == (0, 0)


def test_a_pledge_paid_just_as_it_expired_still_counts(app, client, reader, base, runner):
    pledge_through_checkout(client)
    with app.app_context():
        db.session.execute(Pledge.__table__.update().values(created_at=utcnow() - dt.timedelta(hours=25)))
        db.session.commit()
    runner.invoke(args=["support", "expire"])
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    deliver_all(base)
    assert the_pledge(app).status == "active" and counters(app) == (1, 1000)


# --- reconciling with Stripe when webhooks were lost --------------------------------------------

def test_reconcile_names_what_lost_webhooks_left_behind_and_fix_applies_it_once(app, client, base, runner, campaign):
    outcomes = {}
    for n, (amount, frequency, then) in enumerate([("1000", "once", "pay"), ("2500", "monthly", "cancel"),
                                                   ("500", "once", "refund"), ("1000", "once", "expire"),
                                                   ("1000", "once", None)]):
        reader = app.test_client()
        sign_in(app, reader, email=f"r{n}@example.org", name=f"R {n}")
        pledge_through_checkout(reader, amount=amount, frequency=frequency)
        outcomes[then] = pledge_rows(app)[-1]
        session_id = outcomes[then].provider_ref
        if then == "expire":
            stripe_client(base).v1.checkout.sessions.expire(session_id)
        elif then is not None:
            paid = control("post", base, f"/checkout/sessions/{session_id}/pay")
            if then == "cancel":
                control("post", base, f"/subscriptions/{paid['subscription']}/cancel")
            if then == "refund":
                control("post", base, "/refund", payment=session_id)
    # Not one webhook arrived; only the refund's pledge had its payment delivered.
    [refund_paid] = [e for e in events(base, "checkout.session.completed")
                     if e["data"]["object"]["id"] == outcomes["refund"].provider_ref]
    assert deliver(base, refund_paid) == 200
    assert counters(app) == (1, 500)

    since = utcnow().date().isoformat()
    found = runner.invoke(args=["support", "reconcile", "--since", since])
    assert found.exit_code == 1
    assert f"{outcomes['pay'].reference}: paid at Stripe, pending here" in found.output
    assert f"{outcomes['cancel'].reference}: paid at Stripe, pending here" in found.output
    assert f"{outcomes['expire'].reference}: expired at Stripe, pending here" in found.output
    assert f"{outcomes['refund'].reference}: 500 cents of ch_" in found.output
    assert "refunded at Stripe, 0 known here" in found.output
    assert outcomes[None].reference not in found.output  # open, unpaid, pending: as it should be

    fixed = runner.invoke(args=["support", "reconcile", "--since", since, "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert runner.invoke(args=["support", "reconcile", "--since", since]).exit_code == 0
    # Paid: 1000 once; 2500 for the month the cancelled subscription paid (kept, not a supporter).
    assert counters(app) == (1, 3500) and consistent(app)
    states = {row.reference: row.status for row in pledge_rows(app)}
    assert [states[outcomes[k].reference] for k in ("pay", "cancel", "refund", "expire", None)] == \
        ["active", "cancelled", "refunded", "expired", "pending"]

    deliver_all(base)  # the lost webhooks turn up after all: nothing changes
    assert counters(app) == (1, 3500) and consistent(app)


def test_reconcile_puts_right_lost_months_refunds_disputes_and_a_subscription_left_charging(app, base, runner,
                                                                                           campaign, monkeypatch):
    def reader(n: int, amount: str, frequency: str) -> Pledge:
        browser = app.test_client()
        sign_in(app, browser, email=f"m{n}@example.org", name=f"M {n}")
        pledge_through_checkout(browser, amount=amount, frequency=frequency)
        pledge = pledge_rows(app)[-1]
        before = {e["id"] for e in events(base)}
        control("post", base, f"/checkout/sessions/{pledge.provider_ref}/pay")
        for event in events(base):
            if event["id"] not in before:
                assert deliver(base, event) == 200
        return pledge_rows(app)[-1]

    def lost(action) -> None:  # done at Stripe, its webhooks never arrive
        before = {e["id"] for e in events(base)}
        action()
        late.extend(e for e in events(base) if e["id"] not in before)

    late: list[dict] = []
    renewed = reader(1, "2500", "monthly")
    lost(lambda: control("post", base, "/refund", payment=control(
        "post", base, f"/subscriptions/{renewed.subscription_ref}/advance")["id"]))
    partly = reader(2, "1000", "once")
    lost(lambda: control("post", base, "/refund", payment=partly.provider_ref, amount=400))
    disputed = reader(3, "1000", "once")
    lost(lambda: control("post", base, "/dispute", payment=disputed.provider_ref))
    charging = reader(4, "2500", "monthly")
    control("post", base, "/refund", payment=charging.provider_ref)
    monkeypatch.setattr(the_provider(app).client.v1.subscriptions, "cancel",
                        lambda *a, **k: (_ for _ in ()).throw(stripe.APIConnectionError("down")))
    assert deliver(base, events(base, "charge.refunded")[-1]) == 503  # applied, but the subscription goes on
    monkeypatch.undo()
    assert counters(app) == (3, 4500)

    since = utcnow().date().isoformat()
    found = runner.invoke(args=["support", "reconcile", "--since", since])
    assert found.exit_code == 1, found.output
    lines = {line.split(": ", 1)[0]: [] for line in found.output.splitlines()}
    for line in found.output.splitlines():
        lines[line.split(": ", 1)[0]].append(line.split(": ", 1)[1])
    assert len(lines[renewed.reference]) == 2 and "a month paid at Stripe" in lines[renewed.reference][0]
    assert "2500 cents of ch_" in lines[renewed.reference][1]
    assert lines[partly.reference] == [lines[partly.reference][0]] and "400 cents of" in lines[partly.reference][0]
    assert lines[disputed.reference][0].startswith("disputed at Stripe (needs_response), not known here")
    assert lines[charging.reference] == ["refunded here, but its subscription is still active at Stripe and may "
                                         "charge again"]

    fixed = runner.invoke(args=["support", "reconcile", "--since", since, "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert stripe_client(base).v1.subscriptions.retrieve(charging.subscription_ref).status == "canceled"
    # 2500 (the first month; the second counted, then refunded) + 600 kept of 1000; the dispute counts nothing.
    assert counters(app) == (2, 3100) and consistent(app)
    for event in late:  # the lost webhooks turn up after all, some twice: nothing changes
        assert deliver(base, event) == 200 and deliver(base, event) == 200
    assert counters(app) == (2, 3100) and consistent(app)
    assert runner.invoke(args=["support", "reconcile", "--since", since]).exit_code == 0


def test_reconcile_that_cannot_ask_stripe_exits_2_not_1(app, base, runner, campaign, monkeypatch):
    monkeypatch.setattr(the_provider(app).client.v1.checkout.sessions, "list",
                        lambda *a, **k: (_ for _ in ()).throw(stripe.APIConnectionError("no route to Stripe")))
    result = runner.invoke(args=["support", "reconcile", "--since", utcnow().date().isoformat()])
    assert result.exit_code == 2 and "could not compare with Stripe" in result.output


# --- the webhook endpoint, as hostile input ------------------------------------------------------

def completed_event(pledge: Pledge) -> dict:
    return {"id": "evt_forged_1", "object": "event", "type": "checkout.session.completed", "created": int(time.time()),
            "data": {"object": {"id": pledge.provider_ref, "object": "checkout.session", "payment_status": "paid",
                                "amount_total": pledge.amount_cents, "currency": "usd", "payment_intent": "pi_x",
                                "client_reference_id": pledge.reference, "metadata": {"pledge": pledge.reference}}}}


def post_signed(client, event: dict, secret: str = WEBHOOK_SECRET, at: int | None = None, body: bytes | None = None,
                header: str | None = None):
    signed = event_body(event)
    header = header if header is not None else signature_header(signed, secret, at or int(time.time()))
    return client.post("/support/webhooks/stripe", data=body if body is not None else signed,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


@pytest.mark.parametrize("how", ["missing", "wrong secret", "stale", "changed after signing", "not a signature"])
def test_an_event_that_is_not_signed_by_stripe_now_is_refused_and_nothing_written(app, client, reader, base, how):
    pledge_through_checkout(client)
    event = completed_event(the_pledge(app))
    changed = event_body({**event, "id": "evt_other"})
    answer = {
        "missing": lambda: post_signed(client, event, header=""),
        "wrong secret": lambda: post_signed(client, event, secret="whsec_someone_else"),
        "stale": lambda: post_signed(client, event, at=int(time.time()) - 301),
        "changed after signing": lambda: post_signed(client, event, body=changed),
        "not a signature": lambda: post_signed(client, event, header="t=1,v1=nothex"),
    }[how]()
    assert answer.status_code == 400
    assert the_pledge(app).status == "pending" and kept_events(app) == 0 and counters(app) == (0, 0)


def test_a_correctly_signed_event_by_hand_is_applied_once(app, client, reader, base):
    pledge_through_checkout(client)
    event = completed_event(the_pledge(app))
    assert post_signed(client, event).status_code == 200
    assert post_signed(client, event).status_code == 200
    assert counters(app) == (1, 1000) and kept_events(app) == 1


def test_an_oversized_or_unsigned_garbage_body_is_refused(app, client, reader, base):
    pledge_through_checkout(client)
    huge = b"{" + b" " * (app.config["STRIPE_WEBHOOK_MAX_BYTES"] + 1) + b"}"
    too_big = client.post("/support/webhooks/stripe", data=huge,
                          headers={"Stripe-Signature": signature_header(huge, WEBHOOK_SECRET, int(time.time()))})
    assert too_big.status_code == 413
    garbage = b"not json"
    signed_garbage = client.post("/support/webhooks/stripe", data=garbage,
                                 headers={"Stripe-Signature": signature_header(garbage, WEBHOOK_SECRET, int(time.time()))})
    assert signed_garbage.status_code == 400
    assert kept_events(app) == 0 and the_pledge(app).status == "pending"


def test_the_webhook_needs_no_csrf_token_and_neither_reads_nor_writes_the_session(app, client, reader, base):
    pledge_through_checkout(client)
    fresh = app.test_client()  # no cookies at all, as Stripe calls
    answer = post_signed(fresh, completed_event(the_pledge(app)))
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    # Sent with a logged-in reader's cookie, still nothing drawn from it: a response made
    # from the session would be marked private (webapp/site/headers.py).
    replay = post_signed(client, completed_event(the_pledge(app)))
    assert replay.status_code == 200 and "Set-Cookie" not in replay.headers
    assert "private" not in replay.headers.get("Cache-Control", "")


def test_an_amount_that_does_not_match_the_pledge_activates_nothing(app, client, reader, base):
    pledge_through_checkout(client)
    event = completed_event(the_pledge(app))
    event["data"]["object"]["amount_total"] = 100
    assert post_signed(client, event).status_code == 200
    assert the_pledge(app).status == "pending" and counters(app) == (0, 0)


@pytest.mark.parametrize("body", [b"[]", b"null", b'"event"', b'{"id": "evt_1", "data": {"object": {}}}',
                                  b'{"id": "evt_1", "type": 7, "data": {"object": {}}}',
                                  b'{"id": "evt_1", "type": "charge.refunded", "data": {"object": []}}'])
def test_a_signed_body_that_is_not_an_event_is_a_400_and_nothing_written(app, client, body):
    answer = client.post("/support/webhooks/stripe", data=body, headers={
        "Stripe-Signature": signature_header(body, WEBHOOK_SECRET, int(time.time())),
        "Content-Type": "application/json"})
    assert answer.status_code == 400 and kept_events(app) == 0


def refund_of(payment_intent: str) -> dict:
    return {"id": "evt_refund_unknown", "object": "event", "type": "charge.refunded", "created": int(time.time()),
            "data": {"object": {"id": "ch_x", "object": "charge", "refunded": True, "payment_intent": payment_intent}}}


def event_rows(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.event_id, e.outcome) for e in db.session.scalars(select(PaymentEvent))]


def test_a_refund_of_a_payment_stripe_does_not_know_is_kept_as_ignored_not_retried(app, client, reader, base):
    """Stripe answers 404 resource_missing: no pledge of ours, now or ever. A 500 would be retried for days."""
    answer = post_signed(client, refund_of("pi_nobody_knows"))
    assert answer.status_code == 200
    assert event_rows(app) == [("evt_refund_unknown", "ignored: no pledge of ours")]


def the_provider(app) -> providers.StripeCheckout:
    with app.app_context():
        return providers.get(providers.STRIPE)  # the one instance the app's requests use


def test_a_key_without_a_permission_during_a_webhook_is_a_503_to_retry(app, client, reader, base, monkeypatch):
    def refuse(*args, **kwargs):
        raise stripe.PermissionError("This key lacks rak_payment_intent_read", http_status=403)
    monkeypatch.setattr(the_provider(app).client.v1.payment_intents, "retrieve", refuse)
    answer = post_signed(client, refund_of("pi_someone"))
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert kept_events(app) == 0  # Stripe sends it again once the key is fixed


def test_a_checkout_session_stripe_refuses_is_a_503_in_the_widget_and_nothing_written(app, client, reader, base,
                                                                                     monkeypatch):
    provider = the_provider(app)
    made = provider.session_params
    monkeypatch.setattr(provider, "session_params", lambda commitment: {**made(commitment), "mode": "setup"})
    answer = post_pledge(client)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "Nothing was charged or recorded" in text_of(answer)
    assert pledge_rows(app) == [] and counters(app) == (0, 0)


def paid_monthly(app, client, base) -> Pledge:
    pledge_through_checkout(client, amount="2500", frequency="monthly")
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    deliver_all(base)
    assert counters(app) == (1, 2500)
    return the_pledge(app)


def renewal_of(pledge: Pledge, event_id: str, amount: int = 2500, currency: str = "usd",
               subscription: str | None = None) -> dict:
    return {"id": event_id, "object": "event", "type": "invoice.paid", "created": int(time.time()),
            "data": {"object": {"id": f"in_{event_id}", "object": "invoice", "billing_reason": "subscription_cycle",
                                "amount_paid": amount, "currency": currency, "status_transitions": {},
                                "parent": {"subscription_details": {
                                    "subscription": subscription or pledge.subscription_ref,
                                    "metadata": {"pledge": pledge.reference}}}}}}


def test_an_invoice_counts_only_the_pledged_amount_of_the_pledges_own_subscription(app, client, reader, base):
    pledge = paid_monthly(app, client, base)
    for event in (renewal_of(pledge, "evt_yen", amount=999999, currency="jpy"),
                  renewal_of(pledge, "evt_more", amount=3000),
                  renewal_of(pledge, "evt_other_sub", subscription="sub_someone_else")):
        assert post_signed(client, event).status_code == 200
    assert counters(app) == (1, 2500) and consistent(app)
    outcomes = dict(event_rows(app))
    assert outcomes["evt_yen"] == outcomes["evt_more"] == "ignored: the amount paid is not the amount pledged"
    assert outcomes["evt_other_sub"] == "ignored: the invoice is not for the pledge's subscription"
    assert post_signed(client, renewal_of(pledge, "evt_right")).status_code == 200  # a true month still adds
    assert counters(app) == (1, 5000) and consistent(app)


def cancel_mine(client, pledge: Pledge):
    return client.post(f"/support/pledges/{pledge.reference}/cancel",
                       data={"csrf_token": csrf_token(client), "confirm": "yes"})


def test_a_cancellation_stripe_refuses_leaves_the_pledge_collecting_and_counted(app, client, reader, base,
                                                                               monkeypatch):
    pledge = paid_monthly(app, client, base)

    def refuse(*args, **kwargs):
        raise stripe.InvalidRequestError("Invalid parameter", "invoice_now", code="parameter_invalid",
                                         http_status=400)
    monkeypatch.setattr(the_provider(app).client.v1.subscriptions, "cancel", refuse)
    answer = cancel_mine(client, pledge)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert the_pledge(app).status == "active" and counters(app) == (1, 2500)
    assert stripe_client(base).v1.subscriptions.retrieve(pledge.subscription_ref).status == "active"


def test_a_cancellation_refused_because_stripe_cancelled_it_already_ends_the_pledge(app, client, reader, base,
                                                                                   monkeypatch):
    pledge = paid_monthly(app, client, base)

    def cancelled_meanwhile(*args, **kwargs):  # e.g. from the dashboard, a moment before
        control("post", base, f"/subscriptions/{pledge.subscription_ref}/cancel")
        raise stripe.InvalidRequestError("This subscription is canceled", None, http_status=400)
    monkeypatch.setattr(the_provider(app).client.v1.subscriptions, "cancel", cancelled_meanwhile)
    assert cancel_mine(client, pledge).status_code == 303
    assert the_pledge(app).status == "cancelled" and counters(app) == (0, 2500) and consistent(app)


def test_only_recorded_pledges_and_monthly_ones_offer_cancelling():
    made = dict(status="active", provider="stripe", frequency="once")
    assert not Pledge(**made).cancellable
    assert Pledge(**{**made, "frequency": "monthly"}).cancellable and Pledge(**{**made, "provider": "record"}).cancellable


# --- when Stripe cannot be reached, and settings --------------------------------------------------

def test_a_pledge_when_stripe_cannot_be_reached_is_a_503_with_retry_after_and_nothing_written(tmp_path):
    app = make_app(tmp_path, PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_API_BASE="http://127.0.0.1:9")  # the discard port: nothing answers
    try:
        make_campaign(app)
        client = app.test_client()
        sign_in(app, client)
        answer = post_pledge(client)
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert "could not reach our payment processor" in text_of(answer)
        assert pledge_rows(app) == []
    finally:
        drop(app)


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SITE_URL"])
def test_stripe_payments_refuse_to_start_without_their_settings(tmp_path, missing):
    settings = dict(PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    settings[missing] = ""
    with pytest.raises(RuntimeError, match=missing):
        make_app(tmp_path, **settings)


def test_production_refuses_the_local_standin_as_its_stripe(tmp_path):
    with pytest.raises(RuntimeError, match="STRIPE_API_BASE"):
        make_app(tmp_path, PLUMB_ENV="production", PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=KEY,
                 STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE="http://127.0.0.1:12111")


def test_record_mode_does_not_answer_stripe_webhooks(tmp_path):
    app = make_app(tmp_path)
    try:
        answer = post_signed(app.test_client(), {"id": "evt_1", "type": "checkout.session.completed",
                                                 "data": {"object": {}}})
        assert answer.status_code == 404
    finally:
        drop(app)


def test_webhooks_sent_by_the_standin_itself_arrive_and_count(app, client, reader, base):
    """Delivery as in development: the stand-in sends on its own thread, with retries."""
    control("post", base, "/delivery", paused=False)
    pledge_through_checkout(client)
    control("post", base, f"/checkout/sessions/{the_pledge(app).provider_ref}/pay")
    deadline = time.monotonic() + 20
    while the_pledge(app).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert the_pledge(app).status == "active" and counters(app) == (1, 1000)
