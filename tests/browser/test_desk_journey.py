"""Editors at the desk and the readers who see their work, in a real browser: answering a
question readers asked for (the live preview, adding a source, saving), correcting an
answer (/corrections, what changed, "Corrected on", the history), a reader's report that
an editor fixes and the reader sees on /account; and the editing form without JavaScript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.people import account, log_in
from tests.servers import serving_demo
from webapp.clock import utcnow
from webapp.templating import long_date

pytestmark = pytest.mark.browser

HIGH = "100000 per minute"  # several logins and reports a run from one address: never limited
OSTRICH = "how-fast-can-an-ostrich-run"  # not answered yet in the demo content
NAPOLEON = "napoleon-short"
GOLDFISH = "goldfish-memory"
WATER = "eight-glasses-of-water"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo content; the test reaches the app to make accounts."""
    with serving_demo(tmp_path_factory.mktemp("live-desk"), LOGIN_LIMIT_ADDRESS=HIGH,
                      LOGIN_LIMIT_ACCOUNT_ADDRESS=HIGH, REPORT_LIMIT=HIGH) as served:
        yield served


def today() -> str:
    return long_date(utcnow().date())


def save(page, kind: str, note: str) -> None:
    """The foot of the editing form: the kind of change, the note, Save."""
    page.get_by_role("radio", name=kind).check()
    page.get_by_label("Note for the history").fill(note)
    page.get_by_role("button", name="Save", exact=True).click()


# --- a. answering a question readers asked for ------------------------------------------------

def test_an_editor_answers_a_requested_question_from_the_requests_list(server, open_page):
    question = "How fast can an ostrich run?"
    reader = open_page()  # a reader asks for it, so it is on /requests
    reader.goto(f"{server.url}/q/{OSTRICH}")
    reader.get_by_role("button", name="Request an answer").click()
    expect(reader.get_by_text("Thank you: your request is counted.")).to_be_visible()
    page = open_page()
    page.goto(f"{server.url}/search?q=ostrich+is:unanswered")  # listed among the unanswered, for now
    expect(page.locator("#results .hit").get_by_role("link", name=question)).to_be_visible()

    log_in(page, server, account(server, editor=True), then="/requests")
    # (the question is in the link's name, for screen readers: "Answer this question: …")
    page.get_by_role("link", name=re.compile(rf"^Answer this question\s*: {re.escape(question)}$")).click()
    expect(page).to_have_url(f"{server.url}/desk/new?question={OSTRICH}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Answer this question")
    expect(page.get_by_label("Question", exact=True)).to_have_value(question)

    page.get_by_label("Category").fill("animals")
    page.get_by_role("textbox", name="[1] Title").fill("Ostrich running speed measured in the field")
    page.get_by_role("textbox", name="[1] Address").fill("https://example.org/ostrich-speed")
    preview = page.locator("#desk-preview")
    expect(preview).to_contain_text("Press “Preview” to see the answer as readers will.")
    body = page.get_by_label(re.compile(r"^Answer \(Markdown"))
    body.click()
    body.press_sequentially("Ostriches sprint at about 70 km/h, faster than any other bird on land [1].")
    # The preview follows the typing, rendered as the answer page renders it: the citation
    # is a link to its source, named by the title just typed.
    expect(preview.locator(".answer-summary")).to_contain_text("faster than any other bird on land")
    citation = preview.locator("a.cite")
    expect(citation).to_have_text("[1]")
    expect(citation).to_have_attribute("data-tooltip", "Ostrich running speed measured in the field")

    page.get_by_role("button", name="Add a source").click()
    expect(page.get_by_role("textbox", name="[2] Title")).to_be_visible()
    expect(page).to_have_url(f"{server.url}/desk/new?question={OSTRICH}")  # in place, nothing saved
    expect(body).to_have_value("Ostriches sprint at about 70 km/h, faster than any other bird on land [1].")
    expect(page.get_by_role("textbox", name="[1] Title")).to_have_value("Ostrich running speed measured in the field")
    page.get_by_role("textbox", name="[2] Title").fill("Flightless birds and how they run")
    page.get_by_role("textbox", name="[2] Address").fill("https://example.org/flightless-birds")
    body.press("Control+End")  # the end of the text, not of its first wrapped line
    body.press_sequentially(" They can keep it up for half an hour [2].")
    expect(body).to_have_value("Ostriches sprint at about 70 km/h, faster than any other bird on land [1]."
                               " They can keep it up for half an hour [2].")
    expect(preview.locator("a.cite")).to_have_count(2)
    expect(preview.locator("a.cite").nth(1)).to_have_attribute("data-tooltip", "Flightless birds and how they run")

    save(page, "Update", "First answer, asked for by readers")
    expect(page).to_have_url(f"{server.url}/q/{OSTRICH}")
    expect(page.get_by_role("status").filter(has_text="Saved as revision")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(question)
    expect(page.locator(".summary")).to_contain_text("Ostriches sprint at about 70 km/h")
    expect(page.locator(".summary")).to_contain_text("They can keep it up for half an hour")
    sources = page.locator(".sources li")
    expect(sources).to_have_count(2)
    expect(sources.nth(0)).to_contain_text("Ostrich running speed measured in the field")
    expect(sources.nth(1)).to_contain_text("Flightless birds and how they run")
    expect(page.get_by_text("Not answered yet.")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Editor").get_by_role("link", name="Edit this answer")).to_be_visible()

    # Gone from the lists of questions waiting for an answer, and listed with the answers.
    page.goto(server.url + "/requests")
    expect(page.get_by_role("heading", level=1)).to_have_text("Most-requested questions")
    expect(page.get_by_role("link", name=question)).to_have_count(0)
    page.goto(f"{server.url}/search?q=ostrich+is:unanswered")
    expect(page.locator("#results")).to_contain_text("0 results for “ostrich is:unanswered”")
    expect(page.locator("#results .hit").get_by_role("link", name=question)).to_have_count(0)
    page.goto(f"{server.url}/search?q=ostrich+is:answered")
    expect(page.locator("#results .hit").get_by_role("link", name=question)).to_be_visible()
    page.goto(server.url + "/c/animals")
    expect(page.locator("#question-list").get_by_role("link", name=question)).to_be_visible()


# --- b. a correction ---------------------------------------------------------------------------

def test_an_editor_corrects_an_answer_and_readers_see_the_correction_everywhere(server, open_page):
    question = "Was Napoleon unusually short?"
    note = "He was about average for his time, a little above rather than slightly"
    page = open_page()
    log_in(page, server, account(server, editor=True), then=f"/q/{NAPOLEON}")
    expect(page.locator(".checked .corrected")).to_have_count(0)  # never corrected so far
    page.get_by_role("navigation", name="Editor").get_by_role("link", name="Edit this answer").click()
    expect(page).to_have_url(f"{server.url}/desk/q/{NAPOLEON}/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit an answer")

    body = page.get_by_label(re.compile(r"^Answer \(Markdown"))
    text = body.input_value()
    assert "around average or slightly above" in text
    body.fill(text.replace("around average or slightly above", "around average or a little above"))
    save(page, "Correction", note)
    expect(page).to_have_url(f"{server.url}/q/{NAPOLEON}")
    expect(page.locator(".summary")).to_contain_text("around average or a little above")

    # The answer says so beside "Checked on", and links to its history.
    checked = page.locator("p.checked")
    expect(checked).to_contain_text("Checked on")
    corrected = checked.get_by_role("link", name=f"Corrected on {today()}")
    expect(corrected).to_be_visible()
    expect(corrected).to_have_attribute("href", f"/q/{NAPOLEON}/history")

    # /corrections lists it, newest first, with the note.
    page.goto(server.url + "/corrections")
    first = page.locator("ol.corrections > li").first
    expect(first.get_by_role("link", name=question, exact=True)).to_be_visible()
    expect(first).to_contain_text(f"Corrected on {today()}")
    expect(first.locator(".revision-note")).to_have_text(note)
    first.get_by_role("link", name=re.compile(rf"^What changed\s*in “{re.escape(question)}”$")).click()
    expect(page).to_have_url(f"{server.url}/q/{NAPOLEON}/history/diff?from=1&to=2")
    expect(page.get_by_role("heading", level=1)).to_have_text("What changed")
    diff = page.locator("pre.diff")
    expect(diff.locator("del")).to_have_text(["slightly"])
    expect(diff.locator("ins")).to_have_text(["a little"])
    expect(diff).to_contain_text("around average or")

    # The history, from the answer page: the correction first, the import below it.
    page.goto(f"{server.url}/q/{NAPOLEON}")
    page.locator("p.checked").get_by_role("link", name=f"Corrected on {today()}").click()
    expect(page).to_have_url(f"{server.url}/q/{NAPOLEON}/history")
    revisions = page.locator("ol.revisions > li")
    expect(revisions).to_have_count(2)
    expect(revisions.nth(0).get_by_role("heading")).to_have_text("Revision 2")
    expect(revisions.nth(0).locator(".revision-kind")).to_have_text("Correction")
    expect(revisions.nth(0).locator(".revision-note")).to_have_text(note)
    expect(revisions.nth(0)).to_contain_text("by Edi Tor")
    expect(revisions.nth(1).get_by_role("heading")).to_have_text("Revision 1")
    expect(revisions.nth(1).locator(".revision-note")).to_have_text("imported from napoleon-short.md")


# --- c. a reader's report, fixed ---------------------------------------------------------------

def test_a_readers_report_is_fixed_by_an_editor_and_the_reader_sees_it_on_their_account(server, open_page):
    what = "The first paragraph says memories last weeks; the study in source 4 found months."
    reader = open_page()
    log_in(reader, server, account(server), then=f"/q/{GOLDFISH}")
    reader.get_by_text("Report an error or suggest a source").click()
    reader.get_by_label("What is wrong, or which source should we consider?").fill(what)
    reader.get_by_label("A source that supports it").fill("https://example.org/goldfish-months")
    reader.get_by_role("button", name="Send report").click()
    thanks = reader.locator(".report-received")
    expect(thanks).to_contain_text("Thank you — we received your report.")
    expect(thanks).to_be_focused()  # the form is gone: focus on what replaced it
    expect(reader).to_have_url(f"{server.url}/q/{GOLDFISH}")  # in place
    expect(reader.get_by_label("What is wrong, or which source should we consider?")).to_have_count(0)
    reader.goto(server.url + "/account")
    mine = reader.locator("#your-reports li").filter(has_text="Do goldfish have a three-second memory?")
    expect(mine).to_contain_text("Received")

    editor = open_page()
    log_in(editor, server, account(server, editor=True), then="/desk/reports")
    row = editor.locator("li.report-row").filter(has_text=what)
    expect(row).to_contain_text("from Rea Der")
    expect(row.get_by_role("link", name="https://example.org/goldfish-months")).to_be_visible()
    row.get_by_role("link", name="Edit this answer").click()  # fix it at the desk first
    expect(editor).to_have_url(f"{server.url}/desk/q/{GOLDFISH}/edit")
    body = editor.get_by_label(re.compile(r"^Answer \(Markdown"))
    body.fill(body.input_value().replace("lasting weeks or months", "lasting months"))
    save(editor, "Correction", "Memories were shown to last months")
    expect(editor).to_have_url(f"{server.url}/q/{GOLDFISH}")

    editor.goto(server.url + "/desk/reports")
    row = editor.locator("li.report-row").filter(has_text=what)
    row.get_by_role("radio", name="Fixed").check()
    revision = row.get_by_label("If fixed, by revision")
    expect(revision.locator("option:checked")).to_contain_text("2: Correction")  # the newest, chosen for them
    row.get_by_label("Note for the reader").fill("Thank you: corrected.")
    row.get_by_role("button", name="Save decision").click()
    saved = editor.locator(".report-decided")
    expect(saved).to_contain_text(f"Saved: Fixed on {today()}, by revision 2.")
    expect(saved).to_be_focused()
    expect(editor).to_have_url(server.url + "/desk/reports")

    reader.goto(server.url + "/account")
    mine = reader.locator("#your-reports li").filter(has_text="Do goldfish have a three-second memory?")
    expect(mine).to_contain_text(f"Fixed on {today()}")
    expect(mine).to_contain_text("Thank you: corrected.")
    mine.get_by_role("link", name="see what changed").click()
    expect(reader).to_have_url(f"{server.url}/q/{GOLDFISH}/history/diff?from=1&to=2")
    expect(reader.locator("pre.diff del")).to_have_text(["weeks or"])


# --- without JavaScript ------------------------------------------------------------------------

def test_without_javascript_add_a_source_and_save_are_whole_page_posts(server, page_without_js):
    page = page_without_js
    log_in(page, server, account(server, editor=True), then=f"/desk/q/{WATER}/edit")
    edit_url = f"{server.url}/desk/q/{WATER}/edit"
    rows = page.locator(".desk-sources tbody tr")
    before = rows.count()
    assert before >= 1

    with page.expect_response(lambda r: r.url == edit_url and r.request.method == "POST") as posted:
        page.get_by_role("button", name="Add a source").click()
    assert posted.value.status == 200 and "<html" in posted.value.text()  # the whole page again
    assert "hx-request" not in posted.value.request.headers
    expect(rows).to_have_count(before + 1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit an answer")
    added = before + 1
    page.get_by_role("textbox", name=f"[{added}] Title").fill("Water needs of healthy adults")
    page.get_by_role("textbox", name=f"[{added}] Address").fill("https://example.org/water-needs")

    with page.expect_response(lambda r: r.url == edit_url and r.request.method == "POST") as posted:
        save(page, "Update", "Another source on daily water needs")
    assert posted.value.status == 303
    expect(page).to_have_url(f"{server.url}/q/{WATER}")
    expect(page.get_by_role("status").filter(has_text="Saved as revision 2.")).to_be_visible()
    expect(page.locator(".sources li")).to_have_count(added)
    expect(page.locator(".sources li").last).to_contain_text("Water needs of healthy adults")
