"""A reader supporting Plumb through the widget on an answer page: logging in inside it,
pledging, and another open browser seeing the count move; the keyboard; "Not now"."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.apps import DEMO, drop, make_app
from tests.pledging import make_campaign
from tests.readers import PASSWORD, make_user
from webapp.clock import utcnow
from webapp.content.importer import import_folder
from webapp.extensions import db
from webapp.support.models import Campaign

pytestmark = pytest.mark.browser

POLL_SECONDS = 1
ANSWER = "/q/why-is-the-sky-blue"
numbers = itertools.count(1)


@dataclass
class Server:
    url: str
    app: object


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Like the shared live_server, but the widget polls every second (the shared one
    cannot be configured), and the test can reach its app to add campaigns and users."""
    app = make_app(tmp_path_factory.mktemp("live-support"), SUPPORT_POLL_SECONDS=POLL_SECONDS)
    with app.app_context():
        import_folder(db.session, DEMO)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{http.server_port}", app)
    http.shutdown()
    drop(app)


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


@pytest.fixture
def new_page(browser):
    """Pages in browser contexts of their own: readers who share no cookies."""
    contexts = []

    def open_page():
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


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
        server, campaign, reader, new_page):
    email, name = reader
    other = new_page()
    other_widget = open_answer(other, server)
    expect_count(other_widget, 0, "0")
    other.evaluate("window.notReloaded = true")

    page = new_page()
    widget = open_answer(page, server)
    expect_count(widget, 0, "0")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
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
    expect(widget.get_by_role("radio", name="$10")).to_be_checked()
    expect(widget.get_by_role("radio", name="One time")).to_be_checked()
    expect(widget.get_by_label("Public name")).to_have_value("Walrus Fan")
    expect(page).to_have_url(server.url + ANSWER)  # all of it happened without leaving the answer
    widget.get_by_role("button", name="Pledge", exact=True).click()

    expect(widget.locator(".support-thanks")).to_have_text(
        "Thank you, Walrus Fan! Your pledge of $10 one time is recorded.", use_inner_text=True)
    expect_count(widget, 1, "1")
    header = page.get_by_role("navigation", name="Site")
    expect(header.get_by_role("link", name=name)).to_be_visible()  # the header knows who is logged in
    expect(header.get_by_role("link", name="Log in")).to_have_count(0)

    # The other reader's widget polls; the new count shows without a reload.
    expect(other_widget.locator("progress#support-bar")).to_have_attribute(
        "value", "1", timeout=(POLL_SECONDS + 1.5) * 1000)
    expect(other_widget.locator("#support-count")).to_contain_text("1 of 1,000 supporters")
    assert other.evaluate("window.notReloaded") is True
    expect(other.get_by_role("navigation", name="Site").get_by_role("link", name=name)).to_have_count(0)

    widget.get_by_role("link", name="See or cancel it in My support").click()
    expect(page.locator(".pledge-list li")).to_have_count(1)
    expect(page.locator(".pledge-list li").first).to_contain_text("$10 one time")


def test_the_pledge_form_works_with_the_keyboard_alone(server, campaign, reader, new_page):
    email, _ = reader
    page = new_page()
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


def test_not_now_keeps_the_widget_small_after_a_reload(server, campaign, new_page):
    page = new_page()
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
