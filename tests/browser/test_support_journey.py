"""A reader supporting Plumb through the widget on an answer page: logging in inside it,
pledging, and another open browser seeing the count move; the keyboard; "Not now"; the
compact ask above the answer and its form opened in place; where focus goes after each
swap; cancelling, asked first, with and without JavaScript; a bar that shows one supporter."""
from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from tests.apps import DEMO, drop, make_app
import re

from sqlalchemy import select

from tests.pixels import marked_from_left
from tests.pledging import make_campaign
from tests.servers import Served, in_a_thread, serving_demo
from tests.readers import PASSWORD, make_user
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.content.importer import import_folder
from webapp.extensions import db
from webapp.support import pledges
from webapp.support.choices import Choice
from webapp.support.models import Campaign

pytestmark = pytest.mark.browser

POLL_SECONDS = 1
ANSWER = "/q/why-is-the-sky-blue"
LATER = "/q/bats-are-blind"
numbers = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Like the shared live_server, but the widget polls every second (the shared one
    cannot be configured), and the test can reach its app to add campaigns and users."""
    with serving_demo(tmp_path_factory.mktemp("live-support"), SUPPORT_POLL_SECONDS=POLL_SECONDS) as served:
        yield served


@pytest.fixture
def campaign(server):
    """A fresh running campaign with no supporters yet (the shown one); ended afterwards
    so the next test starts from zero again."""
    campaign_id = make_campaign(server.app, slug=f"keep-plumb-independent-{next(numbers)}")
    yield campaign_id
    with server.app.app_context():
        db.session.get(Campaign, campaign_id).ended_at = utcnow()
        db.session.commit()


@pytest.fixture
def reader(server):
    """A reader's account: (email, display name)."""
    email, name = f"reader{next(numbers)}@example.org", "Rea Der"
    make_user(server.app, email, name, PASSWORD)
    return email, name


def open_answer(page, server):
    response = page.goto(server.url + ANSWER)
    shipped = response.text()
    # The page itself ships only the placeholder; htmx then loads the widget in its place.
    assert "Loading…" in shipped and "support-bar" not in shipped
    widget = page.locator("#support-widget")
    expect(widget.get_by_role("heading", name="Keep Plumb independent")).to_be_visible()
    expect(widget.get_by_text("Loading…")).to_have_count(0)
    return widget


def expect_count(widget, supporters: int, text: str):
    expect(widget.locator("progress#support-bar")).to_have_attribute("value", str(supporters))
    expect(widget.locator("#support-count")).to_contain_text(f"{text} of 1,000 supporters")


def test_a_logged_out_reader_logs_in_inside_the_widget_pledges_and_another_reader_sees_it(
        server, campaign, reader, open_page):
    email, name = reader
    other = open_page()
    other_widget = open_answer(other, server)
    expect_count(other_widget, 0, "0")
    other.evaluate("window.notReloaded = true")

    page = open_page()
    widget = open_answer(page, server)
    expect_count(widget, 0, "0")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    widget.get_by_role("radio", name="$10").check()
    widget.get_by_role("radio", name="One time").check()
    widget.get_by_text("Add a public name and message").click()
    widget.get_by_label("Public name").fill("Walrus Fan")
    widget.get_by_role("button", name="Continue").click()

    expect(widget.get_by_text("To pledge $10 one time, log in or create an account.")).to_be_visible()
    widget.get_by_label("Email").fill(email)
    widget.get_by_label("Password").fill(PASSWORD)
    widget.get_by_role("button", name="Log in and continue").click()

    expect(widget.get_by_role("status")).to_have_text(f"You are logged in as {name}. Check your pledge and confirm it.")
    # The form came back in place of the login: focus is on what the reader does next.
    expect(widget.get_by_role("button", name="Pledge", exact=True)).to_be_focused()
    expect(widget.get_by_role("radio", name="$10")).to_be_checked()
    expect(widget.get_by_role("radio", name="One time")).to_be_checked()
    expect(widget.get_by_label("Public name")).to_have_value("Walrus Fan")
    expect(page).to_have_url(server.url + ANSWER)  # all of it happened without leaving the answer
    widget.get_by_role("button", name="Pledge", exact=True).click()

    expect(widget.locator(".support-thanks")).to_have_text(
        "Thank you, Walrus Fan! Your pledge of $10 one time is recorded.", use_inner_text=True)
    expect_count(widget, 1, "1")
    top = page.locator("#top-support-widget")  # the compact ask above the answer moved too, and thanks
    expect(top.locator("progress")).to_have_attribute("value", "1")
    expect(top.get_by_text("Thank you for supporting Plumb")).to_be_visible()
    expect(widget.locator(".support-thanks")).to_be_focused()  # the top reloading took no focus
    header = page.get_by_role("navigation", name="Site")
    expect(header.get_by_role("link", name=name)).to_be_visible()  # the header knows who is logged in
    expect(header.get_by_role("link", name="Log in", exact=True)).to_have_count(0)

    # The other reader's widget polls; the new count shows without a reload.
    expect(other_widget.locator("progress#support-bar")).to_have_attribute(
        "value", "1", timeout=(POLL_SECONDS + 1.5) * 1000)
    expect(other_widget.locator("#support-count")).to_contain_text("1 of 1,000 supporters")
    assert other.evaluate("window.notReloaded") is True
    expect(other.get_by_role("navigation", name="Site").get_by_role("link", name=name)).to_have_count(0)

    widget.get_by_role("link", name="See or cancel it in My support").click()
    expect(page.locator(".pledge-list li")).to_have_count(1)
    expect(page.locator(".pledge-list li").first).to_contain_text("$10 one time")


def test_the_pledge_form_works_with_the_keyboard_alone(server, campaign, reader, open_page):
    email, _ = reader
    page = open_page()
    page.goto(f"{server.url}/login?next={ANSWER}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + ANSWER)
    widget = page.locator("#support-widget")
    expect(widget.get_by_role("button", name="Pledge", exact=True)).to_be_visible()

    for _ in range(300):  # Tab through the page until the amounts are reached
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "amount":
            break
    else:
        pytest.fail("Tab never reached the pledge amounts")
    expect(widget.get_by_role("radio", name="$10")).to_be_focused()
    page.keyboard.press("ArrowRight")  # within a radio group the arrows choose
    expect(widget.get_by_role("radio", name="$25")).to_be_checked()
    expect(widget.get_by_label("Other amount")).to_be_hidden()  # shown only when "Other" is chosen
    page.keyboard.press("Tab")
    expect(widget.get_by_role("radio", name="One time")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(widget.get_by_role("radio", name="Every month")).to_be_checked()
    page.keyboard.press("Tab")  # the folded name and message open with Enter
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("Keys Only")
    page.keyboard.press("Tab")
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Tab")
    expect(widget.get_by_role("button", name="Pledge", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    thanks = widget.locator(".support-thanks")
    expect(thanks).to_have_text("Thank you, Keys Only! Your pledge of $25 every month is recorded.",
                                use_inner_text=True)
    expect(thanks).to_be_focused()  # the form is gone: focus goes to the thank-you, not back to the top
    expect_count(widget, 1, "1")


def test_not_now_keeps_the_widget_small_after_a_reload(server, campaign, open_page):
    page = open_page()
    widget = open_answer(page, server)
    widget.get_by_role("button", name="Not now").click()

    expect(widget.get_by_role("link", name="Show how to help")).to_be_visible()
    expect(widget.get_by_role("button", name="Continue")).to_have_count(0)
    expect(widget.get_by_role("radio")).to_have_count(0)
    expect_count(widget, 0, "0")  # small, but still showing how far along we are

    page.reload()
    expect(widget.get_by_role("link", name="Show how to help")).to_be_visible()
    expect(widget.get_by_role("radio")).to_have_count(0)
    page.goto(server.url + "/about")
    expect(widget.get_by_role("link", name="Show how to help")).to_be_visible()
    expect(widget.get_by_role("radio")).to_have_count(0)

    widget.get_by_role("link", name="Show how to help").click()  # and the reader can still ask for it
    expect(widget.get_by_role("radio", name="$10")).to_be_checked()


# --- the compact ask above the answer -------------------------------------------------------

def log_in(page, server, email, then=ANSWER):
    page.goto(f"{server.url}/login?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + then)


def ids_twice(page) -> list[str]:
    return page.evaluate("""() => {
        const seen = new Set(), twice = [];
        for (const el of document.querySelectorAll("[id]")) { if (seen.has(el.id)) twice.push(el.id); seen.add(el.id); }
        return twice; }""")


def test_the_compact_ask_opens_the_form_in_place_and_a_pledge_there_moves_both_bars(
        server, campaign, reader, open_page):
    email, _ = reader
    page = open_page()
    log_in(page, server, email)
    top, foot = page.locator("#top-support-widget"), page.locator("#support-widget")
    expect(top.get_by_text("Keep Plumb independent")).to_be_visible()
    expect(top.get_by_text("Goal: 1,000 supporters")).to_be_visible()
    expect(top.get_by_text("No supporters yet — be the first")).to_be_visible()
    expect(page.get_by_text("Loading…")).to_have_count(0)
    question = page.get_by_role("heading", level=1)
    assert top.bounding_box()["y"] + top.bounding_box()["height"] <= question.bounding_box()["y"]  # above it
    expect(top.get_by_role("radio")).to_have_count(0)  # compact until asked
    expect(foot.get_by_role("radio", name="$10")).to_be_visible()  # the full widget stays at the foot

    top.get_by_role("button", name="Support").click()
    expect(top.get_by_role("radio", name="$10")).to_be_focused()  # the form, in place, focus on it
    expect(page).to_have_url(server.url + ANSWER)
    assert ids_twice(page) == []
    top.get_by_role("radio", name="$25").check()
    top.get_by_role("button", name="Pledge", exact=True).click()

    expect(top.locator(".support-thanks")).to_have_text("Thank you! Your pledge of $25 one time is recorded.",
                                                        use_inner_text=True)
    expect(top.locator(".support-thanks")).to_be_focused()
    expect(top.locator("progress")).to_have_attribute("value", "1")
    expect(foot.locator("progress")).to_have_attribute("value", "1")  # the foot's bar moved with it
    expect(foot.get_by_text("Thank you for supporting Plumb")).to_be_visible()  # and thanks, not asks
    expect(foot.get_by_role("radio")).to_have_count(0)
    expect(top.locator(".support-thanks")).to_be_focused()  # the foot reloading took no focus
    assert ids_twice(page) == []

    page.goto(server.url + LATER)  # later pages thank the supporter at the top and the foot
    for widget in (top, foot):
        expect(widget.get_by_text("Thank you for supporting Plumb")).to_be_visible()
        expect(widget.locator("progress")).to_have_attribute("value", "1")
        expect(widget.get_by_role("radio")).to_have_count(0)
        expect(widget.get_by_role("button", name="Continue")).to_have_count(0)


def test_one_supporter_of_a_thousand_shows_on_the_bar(server, campaign, open_page):
    with server.app.app_context():
        db.session.get(Campaign, campaign).goal_offset = 1
        db.session.commit()
    page = open_page()
    widget = open_answer(page, server)
    expect(widget.get_by_text("1 supporter so far — be the next")).to_be_visible()
    expect(widget.locator("progress")).to_have_attribute("value", "1")
    for bar in (widget.locator("progress"), page.locator("#top-support-widget progress")):
        assert marked_from_left(bar.screenshot(animations="disabled")) >= 6  # a visible mark, not a tenth of a pixel


def test_the_widget_is_not_on_the_login_and_register_pages(server, campaign, open_page):
    page = open_page()
    for url in ("/login", "/register"):
        page.goto(server.url + url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator(".support-widget")).to_have_count(0)
        expect(page.get_by_role("button", name="Continue")).to_have_count(0)


# --- focus after registering -----------------------------------------------------------------

def test_after_registering_in_the_widget_focus_goes_to_the_inbox_note_and_then_the_pledge(
        server, campaign, open_page):
    email = f"new{next(numbers)}@example.org"
    page = open_page()
    widget = open_answer(page, server)
    widget.get_by_role("radio", name="$5").check()
    widget.get_by_role("button", name="Continue").click()
    widget.get_by_role("link", name="Create an account").click()
    expect(widget.get_by_label("Email")).to_be_focused()
    widget.get_by_label("Email").fill(email)
    widget.get_by_label("Your name").fill("New Reader")
    widget.get_by_label("Password").fill(PASSWORD)
    widget.get_by_role("button", name="Create account and continue").click()

    note = widget.locator(".support-inbox")
    expect(note).to_contain_text(f"Check your inbox at {email}")
    expect(note).to_be_focused()  # not <body>: the reader reads on from here

    sent = [m for m in server.app.extensions["mail"].sent if m.to == email][-1]
    link = re.search(r"https?://\S+?(/register/confirm/\S+)", sent.text).group(1)
    page.goto(server.url + link)
    page.get_by_role("button").filter(has_text=re.compile("Confirm", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"/support#support-widget$"))
    pledge = page.locator("#support-widget").get_by_role("button", name="Pledge", exact=True)
    expect(pledge).to_be_focused()  # the pledge chosen before waits, and focus is on it
    expect(page.locator("#support-widget").get_by_role("radio", name="$5")).to_be_checked()


# --- cancelling, asked first ---------------------------------------------------------------------

def pledge_for(server, email: str, cents: int = 1000) -> None:
    """A pledge recorded as the widget records it, for the reader with `email`."""
    with server.app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        campaign = db.session.scalars(select(Campaign).where(Campaign.ended_at.is_(None))
                                      .order_by(Campaign.id.desc())).first()
        pledges.pledge(db.engine, campaign, user_id, Choice(amount_cents=cents, frequency="once", key=pledges.new_key()))


def test_cancelling_asks_first_and_focus_follows_each_step(server, campaign, reader, open_page):
    email, _ = reader
    pledge_for(server, email)
    page = open_page()
    log_in(page, server, email, then="/support/mine")
    row = page.locator(".pledge-row").first
    expect(page.locator("#support-widget progress")).to_have_attribute("value", "1")

    row.get_by_role("button", name="Cancel this pledge").click()
    question = row.locator(".pledge-confirm")
    expect(question).to_have_text("Cancel this pledge of $10 one time? It stops counting at once.", use_inner_text=True)
    expect(question).to_be_focused()
    row.get_by_role("button", name="No, keep it").click()
    expect(row.get_by_role("button", name="Cancel this pledge")).to_be_focused()
    expect(row).to_contain_text("$10 one time")

    row.get_by_role("button", name="Cancel this pledge").click()
    row.get_by_role("button", name="Yes, cancel it").click()
    status = row.locator(".pledge-status")
    expect(status).to_contain_text("it no longer counts")
    expect(status).to_be_focused()  # the row's new status, not <body>
    expect(page.locator("#support-widget progress")).to_have_attribute("value", "0")
    expect(page).to_have_url(server.url + "/support/mine")


def test_without_javascript_cancelling_asks_on_a_page_of_its_own(server, campaign, reader, page_without_js):
    email, _ = reader
    pledge_for(server, email, cents=2500)
    page = page_without_js
    log_in(page, server, email, then="/support/mine")
    page.get_by_role("button", name="Cancel this pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel a pledge")
    expect(page.get_by_text("Cancel this pledge of $25 one time?")).to_be_visible()
    page.get_by_role("button", name="No, keep it").click()
    expect(page).to_have_url(re.compile(r"/support/mine#pledge-"))
    expect(page.locator(".pledge-row")).to_contain_text("$25 one time")
    expect(page.get_by_role("button", name="Cancel this pledge")).to_be_visible()  # nothing changed

    page.get_by_role("button", name="Cancel this pledge").click()
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text("Your pledge is cancelled.")).to_be_visible()
    expect(page.locator(".pledge-row")).to_contain_text("it no longer counts")


# --- paying through Stripe Checkout (the local stand-in) ------------------------------------

STANDIN_KEY, STANDIN_WEBHOOK_SECRET = "sk_test_browser_journey", "whsec_browser_journey"


class _Forward:
    """Plumb's address, known before Plumb is made: SITE_URL and the stand-in's webhook
    address must name it, and the app needs the stand-in's address in turn."""

    target = None

    def __call__(self, environ, start_response):
        return self.target(environ, start_response)


@pytest.fixture(scope="module")
def paying_server(tmp_path_factory):
    from webapp.support.standin import create_app as standin_app

    forward = _Forward()
    with in_a_thread(forward) as url:
        standin = standin_app(STANDIN_KEY, STANDIN_WEBHOOK_SECRET, url + "/support/webhooks/stripe",
                              retry_delays=(0.2, 0.5, 1))
        with in_a_thread(standin) as standin_url:
            app = make_app(tmp_path_factory.mktemp("live-paying"), SUPPORT_POLL_SECONDS=POLL_SECONDS, SITE_URL=url,
                           PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=STANDIN_KEY,
                           STRIPE_WEBHOOK_SECRET=STANDIN_WEBHOOK_SECRET, STRIPE_API_BASE=standin_url)
            with app.app_context():
                import_folder(db.session, DEMO)
            forward.target = app
            yield Served(url, app)
            standin.extensions["stripe_standin"].webhooks.close()
            drop(app)


@pytest.fixture
def paying_campaign(paying_server):
    campaign_id = make_campaign(paying_server.app, slug=f"keep-plumb-independent-{next(numbers)}")
    yield campaign_id
    with paying_server.app.app_context():
        db.session.get(Campaign, campaign_id).ended_at = utcnow()
        db.session.commit()


def test_a_logged_out_reader_pledges_logs_in_pays_on_the_hosted_page_and_sees_the_bar_move(
        paying_server, paying_campaign, open_page):
    server = paying_server
    email, name = f"payer{next(numbers)}@example.org", "Pay Er"
    make_user(server.app, email, name, PASSWORD)
    page = open_page()
    widget = open_answer(page, server)
    expect_count(widget, 0, "0")
    widget.get_by_role("radio", name="$10").check()
    widget.get_by_role("radio", name="One time").check()
    widget.get_by_role("button", name="Continue").click()
    widget.get_by_label("Email").fill(email)
    widget.get_by_label("Password").fill(PASSWORD)
    widget.get_by_role("button", name="Log in and continue").click()
    widget.get_by_role("button", name="Pledge", exact=True).click()

    # Stripe's hosted page (the stand-in's), then back to Plumb's thank-you.
    expect(page.get_by_text("Test payment — no money moves.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay $10.00 one time")
    page.get_by_role("button", name="Pay $10.00").click()
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/support/thanks\?session_id=cs_test_"))
    # "confirming your payment…" while the webhook is on its way, then the thank-you.
    expect(page.get_by_text("has arrived and is counted")).to_be_visible()
    foot = page.locator("#support-widget")
    expect(foot.locator("progress")).to_have_attribute("value", "1")
    expect(foot.get_by_text("Thank you for supporting Plumb")).to_be_visible()
    assert ids_twice(page) == []


def test_a_declined_card_counts_nothing_and_cancel_returns_to_the_form_ready_to_try_again(
        paying_server, paying_campaign, open_page):
    server = paying_server
    email = f"declined{next(numbers)}@example.org"
    make_user(server.app, email, "Dec Lined", PASSWORD)
    page = open_page()
    log_in(page, server, email, then="/support")
    widget = page.locator("#support-widget")
    widget.get_by_role("radio", name="$25").check()
    widget.get_by_role("radio", name="Every month").check()
    widget.get_by_role("button", name="Pledge", exact=True).click()

    page.get_by_role("button", name="Decline (test a refused card)").click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    page.get_by_role("button", name="Cancel and go back").click()

    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/support\?pledge="))
    widget = page.locator("#support-widget")
    expect(widget.get_by_text("Your payment was cancelled and nothing was charged")).to_be_visible()
    expect(widget.get_by_role("radio", name="$25")).to_be_checked()
    expect(widget.get_by_role("radio", name="Every month")).to_be_checked()
    expect_count(widget, 0, "0")
    widget.get_by_role("button", name="Pledge", exact=True).click()  # ready to try again: the same payment page
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay $25.00 every month")


def test_without_javascript_a_pledge_goes_to_the_hosted_page_and_back_and_refresh_shows_it_counted(
        paying_server, paying_campaign, page_without_js):
    import requests

    server, page = paying_server, page_without_js
    standin = server.app.config["STRIPE_API_BASE"]

    def control(path: str, **body) -> dict:
        answer = requests.post(f"{standin}/_standin{path}", json=body or None, auth=(STANDIN_KEY, ""), timeout=10)
        assert answer.ok, answer.text
        return answer.json()

    email = f"nojs{next(numbers)}@example.org"
    make_user(server.app, email, "No Script", PASSWORD)
    log_in(page, server, email, then="/support")
    control("/delivery", paused=True)  # the webhook waits until the reader is back
    try:
        page.get_by_role("radio", name="$5").check()
        page.get_by_role("button", name="Pledge", exact=True).click()
        expect(page.get_by_text("Test payment — no money moves.")).to_be_visible()
        page.get_by_role("button", name="Pay $5.00").click()
        expect(page).to_have_url(re.compile(re.escape(server.url) + r"/support/thanks\?session_id=cs_test_"))
        expect(page.get_by_text("Thank you — confirming your payment of $5 one time…")).to_be_visible()
        session_id = page.url.rpartition("=")[2]
        [completed] = [e for e in requests.get(f"{standin}/_standin/events", auth=(STANDIN_KEY, ""), timeout=10)
                       .json()["data"] if e["data"]["object"]["id"] == session_id]
        assert control(f"/events/{completed['id']}/deliver")["status"] == 200
        page.get_by_role("link", name="Refresh").click()
        expect(page.get_by_text("has arrived and is counted")).to_be_visible()
    finally:
        control("/delivery", paused=False)
