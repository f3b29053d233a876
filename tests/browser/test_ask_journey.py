"""Readers asking their own questions, in a real browser: a search that finds nothing,
"Ask it as a question", "Is it one of these?", asking anyway, the question waiting on
the reader's account, an editor opening it from /desk/asks, and the question then on
/requests and at its own address; and the same form without JavaScript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accessibility import settle
from tests.browser.people import account, log_in
from tests.servers import serving_demo

pytestmark = pytest.mark.browser

HIGH = "100000 per minute"  # several logins and asks a run from one address: never limited
NOTHING = "wobblefrotz zzqx"  # no demo question has these words
LIGHTNING = "Does lightning ever strike the same place twice?"  # answered in the demo


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo content; the test reaches the app to make accounts."""
    with serving_demo(tmp_path_factory.mktemp("live-ask"), LOGIN_LIMIT_ADDRESS=HIGH,
                      LOGIN_LIMIT_ACCOUNT_ADDRESS=HIGH, ASK_LIMIT=HIGH, ASK_DAILY_CAP=1000) as served:
        yield served


def offers_lightning(box) -> None:
    """The "Is it one of these?" step for a lightning question: the answered demo
    question first, with its link to read it, and the text the reader asked kept."""
    expect(box.get_by_role("heading", name="Is it one of these?")).to_be_visible()
    offered = box.locator("ol.ask-offers > li")
    expect(offered.first.get_by_role("link", name=LIGHTNING)).to_be_visible()
    expect(offered.first.get_by_role("link", name="Yes, read this answer")).to_be_visible()
    expect(offered.first).to_contain_text("answered")
    expect(box.get_by_role("button", name="None of these — ask my question")).to_be_visible()


# --- with JavaScript: the whole journey --------------------------------------------------------

def test_a_reader_asks_a_new_question_and_an_editor_opens_it(server, open_page):
    question = "Can lightning hit the same spot twice in a storm?"  # like the answered one, not the same
    reader = open_page()
    log_in(reader, server, account(server), then="/about")

    # A search that finds nothing offers to ask it, with what was searched for.
    search = reader.get_by_role("searchbox", name="Search questions").first
    search.fill(NOTHING)
    search.press("Enter")
    expect(reader.locator("#results")).to_contain_text("Nothing matched.")
    reader.get_by_role("link", name="Ask it as a question").click()
    expect(reader).to_have_url(f"{server.url}/ask?q=wobblefrotz+zzqx")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Ask a question")
    text = reader.get_by_label("Your question or claim")
    expect(text).to_have_value(NOTHING)
    expect(reader.get_by_text("You are not logged in")).to_have_count(0)  # logged in: it goes on the account

    # Questions like it are offered in place (htmx), the heading of the new step focused.
    text.fill(question)
    reader.get_by_label("Where did you come across it?").fill("A friend said it never happens.")
    with reader.expect_response(lambda r: r.url == f"{server.url}/ask" and r.request.method == "POST") as posted:
        reader.get_by_role("button", name="Ask", exact=True).click()
    assert posted.value.request.headers.get("hx-request") == "true"
    box = reader.locator("#ask-box")
    offers_lightning(box)
    expect(box.get_by_role("heading", name="Is it one of these?")).to_be_focused()
    expect(box.locator("q.ask-text")).to_have_text(question)
    expect(reader).to_have_url(f"{server.url}/ask?q=wobblefrotz+zzqx")  # in place, no new page
    # The browser may focus the new heading (autofocus) before htmx has wired the new forms
    # as the swap settles: a reader's next press waits for that, as ours must.
    settle(reader)

    box.get_by_role("button", name="None of these — ask my question").click()
    status = box.get_by_role("status")
    expect(status.get_by_role("heading")).to_have_text("Thank you — your question is waiting for review")
    expect(status).to_contain_text(question)
    expect(status).to_be_focused()  # the form is gone: focus on what replaced it
    expect(box.get_by_role("button", name="None of these — ask my question")).to_have_count(0)

    # The reader's account lists it, waiting.
    status.get_by_role("link", name="your account").click()
    expect(reader).to_have_url(f"{server.url}/account#your-questions")
    mine = reader.locator("#your-questions li").filter(has_text=question)
    expect(reader.locator("#your-questions").get_by_role("heading", name="Your questions")).to_be_visible()
    expect(mine).to_have_count(1)
    expect(mine.locator(".ask-outcome")).to_have_text("Waiting for review")
    # Nothing pending is public.
    reader.goto(f"{server.url}/search?q=spot+storm+lightning")
    expect(reader.locator("#results .hit").get_by_role("link", name=question)).to_have_count(0)

    # An editor sees it on the desk and opens it from the queue, in place.
    editor = open_page()
    log_in(editor, server, account(server, editor=True), then="/desk/")
    waiting = editor.locator("section").filter(
        has=editor.get_by_role("heading", name="Readers’ questions to review"))
    expect(waiting.get_by_role("link", name=question)).to_be_visible()
    editor.goto(server.url + "/desk/asks")
    expect(editor.get_by_role("heading", level=1)).to_have_text("Readers’ questions")
    row = editor.locator("li.ask-row").filter(has_text=question)
    expect(row).to_have_count(1)
    expect(row.locator(".report-state")).to_have_text("Pending")
    expect(row).to_contain_text("from an account")
    expect(row).to_contain_text("A friend said it never happens.")
    row_id = row.get_attribute("id")
    row.get_by_label("Category").select_option(label="Science")
    row.get_by_role("button", name="Open it").click()
    saved = editor.locator(f"#{row_id} .report-decided")
    expect(saved).to_contain_text("Saved: Open on")
    expect(saved).to_be_focused()
    expect(editor).to_have_url(server.url + "/desk/asks")  # in place
    expect(editor.locator(f"#{row_id}").get_by_role("button", name="Open it")).to_have_count(0)
    opened = saved.get_by_role("link", name=question)
    href = opened.get_attribute("href")
    assert href and re.fullmatch(r"/q/[a-z0-9-]+", href), href

    # The asker's request counts: it is on /requests, and its page is an unanswered question.
    reader.goto(server.url + "/requests")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Most-requested questions")
    expect(reader.get_by_role("link", name=question)).to_be_visible()
    reader.get_by_role("link", name=question).click()
    expect(reader).to_have_url(server.url + href)
    expect(reader.get_by_role("heading", level=1)).to_have_text(question)
    expect(reader.get_by_text("Not answered yet.")).to_be_visible()

    reader.goto(server.url + "/account")
    mine = reader.locator("#your-questions li").filter(has_text=question)
    expect(mine.locator(".ask-outcome")).to_have_text("Open: not answered yet")
    expect(mine.get_by_role("link", name=question)).to_have_attribute("href", href)


# --- without JavaScript ------------------------------------------------------------------------

def test_without_javascript_each_step_is_a_page_and_asking_lands_on_the_question_page(server, page_without_js):
    page = page_without_js
    question = "Does lightning strike tall trees more often than open ground?"
    page.goto(f"{server.url}/search?q=wobblefrotz+zzqx")
    page.get_by_role("link", name="Ask it as a question").click()
    expect(page).to_have_url(f"{server.url}/ask?q=wobblefrotz+zzqx")
    expect(page.get_by_text("You are not logged in")).to_be_visible()
    text = page.get_by_label("Your question or claim")
    text.fill(question)
    with page.expect_response(lambda r: r.url == f"{server.url}/ask" and r.request.method == "POST") as posted:
        page.get_by_role("button", name="Ask", exact=True).click()
    assert posted.value.status == 200 and "<html" in posted.value.text()  # the whole page again
    assert "hx-request" not in posted.value.request.headers
    expect(page).to_have_title(re.compile(r"^Is it one of these\?"))
    box = page.locator("#ask-box")
    offers_lightning(box)
    expect(box.locator("q.ask-text")).to_have_text(question)

    with page.expect_response(lambda r: r.url == f"{server.url}/ask" and r.request.method == "POST") as posted:
        box.get_by_role("button", name="None of these — ask my question").click()
    assert posted.value.status == 303
    expect(page).to_have_url(re.compile(rf"^{re.escape(server.url)}/ask/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your question")
    status = page.get_by_role("status").filter(has_text="waiting for review")
    expect(status.get_by_role("heading")).to_have_text("Thank you — your question is waiting for review")
    expect(status).to_contain_text(question)
    # Logged out, the browser keeps it: the page's own link comes back to it.
    here = page.url
    status.get_by_role("link", name="this page").click()
    expect(page).to_have_url(here)
    expect(page.get_by_role("status")).to_contain_text(question)
