"""Following and citing in a real browser: a reader follows an answer and a question
not answered yet from their pages (in place, with htmx), finds them on
/account/following, reads a correction's mark and clears it by reading the answer,
stops following one; opens "Cite this answer" and copies a citation; and the same
Follow button without JavaScript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.people import account, log_in
from tests.servers import serving_demo
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.revisions import service as revisions

pytestmark = pytest.mark.browser

HIGH = "100000 per minute"
SKY, OSTRICH = "why-is-the-sky-blue", "how-fast-can-an-ostrich-run"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving_demo(tmp_path_factory.mktemp("live-follow"), LOGIN_LIMIT_ADDRESS=HIGH,
                      LOGIN_LIMIT_ACCOUNT_ADDRESS=HIGH) as served:
        yield served


def correct(server, slug: str) -> None:
    """An editor's correction, as the desk would save it."""
    with server.app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        question.summary = question.summary.replace("much more strongly", "far more strongly")
        revisions.record(db.session, question, "correction", "Far more, not much more", None)
        db.session.commit()


def test_a_reader_follows_sees_what_changed_and_stops(browser, server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page, server, account(server), f"/q/{SKY}")
    follow = page.locator("#follow")
    follow.get_by_role("button", name="Follow this question").click()
    expect(follow.get_by_role("button", name="Following")).to_be_focused()
    expect(follow).to_contain_text("Followed.")
    expect(page).to_have_url(f"{server.url}/q/{SKY}")  # swapped in place, no new page

    page.goto(f"{server.url}/q/{OSTRICH}")
    page.locator("#follow").get_by_role("button", name="Follow this question").click()
    expect(page.locator("#follow").get_by_role("button", name="Following")).to_be_visible()

    correct(server, SKY)
    page.goto(f"{server.url}/account")
    page.get_by_role("link", name="see what changed, your private feed, and email").click()
    items = page.locator(".following-items li")
    expect(items).to_have_count(2)
    sky = items.filter(has_text="Why is the sky blue?")
    expect(sky.locator(".follow-mark")).to_have_text("corrected since your last visit")
    expect(page.locator(".feed-address")).to_contain_text("/following/feed/")

    sky.get_by_role("link", name="Why is the sky blue?").click()  # reading it clears the mark
    page.go_back()
    page.reload()
    expect(page.locator(".following-items li").filter(has_text="Why is the sky blue?").locator(".follow-mark")).to_have_count(0)

    page.goto(f"{server.url}/q/{SKY}")
    page.get_by_text("Cite this answer").click()
    permalink = page.locator("#cite .permalink")
    expect(permalink).to_have_text(re.compile(r"/q/why-is-the-sky-blue/history/2$"))
    page.get_by_role("button", name="Copy the APA citation").click()
    expect(page.get_by_role("button", name="Copied the APA citation")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Plumb. (") and copied.endswith("/q/why-is-the-sky-blue/history/2")
    # The permalink is on SITE_URL (plumb.example in tests): the same path on this server.
    page.goto(server.url + re.sub(r"^https?://[^/]+", "", permalink.inner_text()))
    expect(page.get_by_text("You are reading revision 2 of 2")).to_be_visible()

    page.goto(f"{server.url}/q/{SKY}")
    page.locator("#follow").get_by_role("button", name="Following").click()
    expect(page.locator("#follow")).to_contain_text("You no longer follow it.")
    page.goto(f"{server.url}/account/following")
    expect(page.locator(".following-items li")).to_have_count(1)
    context.close()


def test_follow_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, server, account(server), f"/q/{OSTRICH}")
    page.locator("#follow").get_by_role("button", name="Follow this question").click()
    expect(page).to_have_url(f"{server.url}/q/{OSTRICH}#follow")
    expect(page.locator("#follow").get_by_role("button", name="Following")).to_be_visible()
    expect(page.locator("#follow [data-share]")).to_have_count(0)
    context.close()
