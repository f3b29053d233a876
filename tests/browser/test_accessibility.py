"""axe-core over every kind of page, as a reader sees it: desktop and phone, light and dark.

One test per way of seeing the site; each visits every page kind in one browser context
and fails with the whole list of violations (rule, page, element), so one run tells
every owner what to fix."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.servers import in_a_thread
from tests.accessibility import axe_violations, report, settle
from tests.apps import drop, import_demo, make_app
from tests.pledging import make_campaign, post_pledge
from tests.readers import PASSWORD, Auth, make_user
from webapp.answers import service as answers
from webapp.asking import service as asking
from webapp.desk import drafts, editing
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.graph import requests
from webapp.reports import service as reports
from webapp.reports.models import FIXED
from webapp.revisions import service as revisions
from webapp.revisions.models import CORRECTION

pytestmark = pytest.mark.browser

EDITOR = "editor@example.org"
ANSWER = "/q/why-is-the-sky-blue"  # corrected once (revision 2), so it says "Corrected on"
UNANSWERED = "how-fast-can-an-ostrich-run"  # requested by a reader
EDITED = "/desk/q/bats-are-blind/edit"  # each run saves it once more (the conflict)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HIGH = "100000 per minute"  # four logins a run, and reruns: never limited
ASKED = "Can lightning hit the same spot twice in a storm?"  # like an answered question: offers


def correct(app, slug: str, old: str, new: str, note: str, editor_id: int) -> int:
    """A correction saved as the desk saves one; the new revision's id."""
    with app.app_context():
        question = answers.question_by_slug(db.session, slug)
        draft = drafts.from_question(question)
        assert old in draft.body, old
        draft.body = draft.body.replace(old, new)
        saved = editing.save(db.session, draft, question=question, kind=CORRECTION, note=note, editor_id=editor_id,
                             base=revisions.latest_number(db.session, question.id))
        assert isinstance(saved, editing.Saved), saved
        return saved.revision.id


def reader_activity(app, editor_id: int, fixing_revision: int) -> None:
    """A reader's request for an unanswered question (so /requests lists it), the editor's
    own report fixed by `fixing_revision` (an outcome on /account), and a logged-out
    reader's report with an email and a source waiting in the queue."""
    with app.app_context():
        requests.request_answer(db.session, answers.question_by_slug(db.session, UNANSWERED),
                                requests.requester_key("a-reader"))
        sky = answers.question_by_slug(db.session, ANSWER.rsplit("/", 1)[1]).id
        mine = reports.receive(db.session, sky, reports.read("Blue light is scattered far more strongly than "
                                                             "red, not just much more."), editor_id)
        reports.decide(db.session, mine, FIXED, "Thank you: corrected.", fixing_revision, editor_id)
        reports.receive(db.session, sky, reports.read("Source 2 has moved to a new address.",
                                                      "https://example.org/new-address", "reader@example.org"), None)
        db.session.commit()


def editors_asks(app, editor_id: int) -> None:
    """The editor's own questions, as /ask keeps them: one waiting for review (so the
    queue at /desk/asks has a row to decide, and /account lists it) and one declined."""
    with app.app_context():
        for text, key in [("Do cats always land on their feet when they fall?", "accessibility-ask-waiting-1"),
                          ("Is the Great Wall of China visible from the Moon with the eye?",
                           "accessibility-ask-declined-2")]:
            kept = asking.keep(db.session, asking.read(text, "Heard it at school."), form_key=key,
                               requester=f"account:{editor_id}", user_id=editor_id, address=None, category=None,
                               flagged=[])
        asking.decline(db.session, kept, "We answer this one already.", editor_id=editor_id)
        db.session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo content with its suggested links, a running campaign (so the supporter
    widget shows its full ask), and an editor's account (the editors' pages too) with a
    pledge (so "My support" lists one, with its cancel button); a correction of the
    answer (its history, a difference, /corrections), a requested question, readers'
    reports (one fixed, one waiting) and the editor's own questions (one waiting, one
    declined). Each run asks from the same address: asking is never limited."""
    app = make_app(tmp_path_factory.mktemp("accessibility"), LOGIN_LIMIT_ADDRESS=HIGH,
                   LOGIN_LIMIT_ACCOUNT_ADDRESS=HIGH, REPORT_LIMIT=HIGH, ASK_LIMIT=HIGH, ASK_DAILY_CAP=1000)
    import_demo(app)
    make_campaign(app)
    editor_id = make_user(app, EDITOR, "Edi Tor", PASSWORD, editor=True)
    follow_the_answer(app, editor_id)  # before its correction: /account/following marks it
    fixed_by = correct(app, ANSWER.rsplit("/", 1)[1], "much more strongly", "far more strongly",
                       "Blue light is scattered far more, not much more", editor_id)
    reader_activity(app, editor_id, fixed_by)
    editors_asks(app, editor_id)
    client = app.test_client()
    Auth(app, client).login(EDITOR)
    assert post_pledge(client).status_code == 200
    with in_a_thread(app) as url:
        yield url
    drop(app)


def follow_the_answer(app, editor_id: int) -> None:
    from webapp.following import service as following

    with app.app_context():
        following.follow(db.session, editor_id, answers.question_by_slug(db.session, ANSWER.rsplit("/", 1)[1]).id,
                         now=utcnow() - dt.timedelta(days=1))
        db.session.commit()


def open_the_citations(page):
    page.get_by_text("Cite this answer").click()
    expect(page.locator("#cite-bibtex")).to_be_visible()


def lists_the_followed_answer(page):
    """Marked "corrected since your last visit" on the first run; reading the answer (the
    next visit) clears the mark for the runs after."""
    expect(page.locator(".following-items li")).to_have_count(1)


def open_a_section(page):
    section = page.locator("#section-2")
    section.locator("summary").click()
    expect(section.locator(".section-body p").first).to_be_visible()


def type_a_search(page):
    """The results as they arrive while typing (htmx fragments, counts after), not the
    plain page."""
    page.get_by_role("searchbox", name="Search questions").first.fill("lightning")
    expect(page.locator("#results .hit").first).to_be_visible()


def lists_the_pledge(page):
    expect(page.locator(".pledge-list li")).to_have_count(1)


def shows_the_fixed_report(page):
    expect(page.locator("#your-reports .report-outcome").filter(has_text="Fixed on")).to_be_visible()


def lists_my_questions(page):
    shows_the_fixed_report(page)
    mine = page.locator("#your-questions .ask-outcome")
    expect(mine.filter(has_text="Waiting for review")).to_be_visible()
    expect(mine.filter(has_text="Declined: We answer this one already.")).to_be_visible()


# The asking steps press their buttons and links from the keyboard: a click leaves the
# pointer on whatever the swap or the next page puts under it, and axe would judge its
# hover colours
# (Pico's dark hover, #017fc0 under white, is 4.37:1 on every primary button, site-wide).
def send(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).press("Enter")


def ask_in_symbols(page):
    """Past the browser's own checks (long enough) but not in words: the form again (422)
    with the mistake at the field, in place."""
    page.get_by_label("Your question or claim").fill("?!?!?!?!?!?!")
    send(page, "Ask")
    expect(page.locator("#ask-text-error")).to_have_text("Type your question in words.")
    expect(page.get_by_label("Your question or claim")).to_be_focused()


def offer_questions(page):
    """"Is it one of these?" in place of the form (htmx), its heading focused."""
    page.get_by_label("Your question or claim").fill(ASKED)
    send(page, "Ask")
    expect(page.get_by_role("heading", name="Is it one of these?")).to_be_focused()
    settle(page)  # htmx wires the new forms and moves the focus once more as the swap settles


def ask_anyway(page):
    """None of the offers: the question is kept, waiting for review, the status focused."""
    offer_questions(page)
    send(page, "None of these — ask my question")
    expect(page.locator("#ask-status")).to_be_focused()
    settle(page)


def see_my_question(page):
    """The asker's own page for the question just kept (logged out: this browser's)."""
    ask_anyway(page)
    page.locator("#ask-status").get_by_role("link", name="this page").press("Enter")
    expect(page).to_have_url(re.compile(r"/ask/\d+$"))


def ask_a_known_question(page):
    """Word for word a question already on the site: the reader's request is counted."""
    page.get_by_label("Your question or claim").fill("How fast can an ostrich run?")
    send(page, "Ask")
    expect(page.locator(".ask-known")).to_be_focused()


def open_a_readers_question(page):
    """The page of one reader's question, where a decision without JavaScript comes back to."""
    page.locator("li.ask-row").first.get_by_role("link", name=re.compile(r"^Question \d+$")).press("Enter")
    expect(page).to_have_url(re.compile(r"/desk/asks/\d+\?back="))
    expect(page.get_by_role("heading", level=1)).to_have_text("A reader’s question")


def decline_a_readers_question(page):
    """A decision in place (htmx): the row says what was saved, and has the focus."""
    row = page.locator("li.ask-row").filter(has_text=ASKED).first
    row.get_by_label("Reason for the asker").fill("We answer this one already.")
    row.get_by_role("button", name="Decline").press("Enter")
    expect(page.locator(".report-decided").filter(has_text="Saved: Declined")).to_be_focused()


def log_in(page):
    page.get_by_label("Email").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Site").get_by_role("link", name="Edi Tor")).to_be_visible()


def open_the_report_form(page):
    page.locator("details.report > summary").click()
    expect(page.get_by_label("What is wrong, or which source should we consider?")).to_be_visible()


def send_a_report(page):
    """The thank-you that replaces the form in place (htmx), focus on it."""
    open_the_report_form(page)
    page.get_by_label("What is wrong, or which source should we consider?").fill(
        "The third paragraph needs a source for the sunset colours.")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".report-received")).to_be_focused()


def answer_body(page):
    return page.get_by_label(re.compile(r"^Answer \(Markdown"))


def save_expecting(page, status: int) -> None:
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/edit")) as answer:
        page.get_by_role("button", name="Save", exact=True).click()
    assert answer.value.status == status, answer.value.status
    settle(page)


def break_a_rule(page):
    """A citation of a source the answer does not have: the live preview names it, and
    Save is refused (422) with the rule at the body."""
    body = answer_body(page)
    body.fill(body.input_value() + " See [99].")
    expect(page.locator("#desk-preview .field-error")).to_contain_text("[99]")
    page.get_by_label("Note for the history").fill("A citation of nothing")
    save_expecting(page, 422)
    expect(page.locator(".field-error").filter(has_text="Not saved")).to_be_visible()


def meet_a_conflict(page):
    """Another tab of the same editor saves first; this tab's save is a conflict (409)."""
    other = page.context.new_page()
    other.goto(page.url)
    body = answer_body(other)
    body.fill(body.input_value() + "\n\nAnother editor added this sentence.")
    other.get_by_label("Note for the history").fill("Saved first, in another tab")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other).to_have_url(re.compile(r"/q/bats-are-blind$"))
    other.close()
    page.get_by_label("Note for the history").fill("Saved second")
    save_expecting(page, 409)
    expect(page.get_by_role("heading", name="Someone saved this answer while you were editing")).to_be_visible()


@dataclass
class Visit:
    name: str
    path: str
    before: Callable | None = None  # what the reader does before axe looks
    after: Callable | None = None  # what they do next, for the pages that follow
    status: int = 200


# In this order: the last logged-out page logs in, and the pages after it are a reader's own.
VISITS = [
    Visit("home", "/"),
    Visit("answer page, a section open", ANSWER, before=open_a_section),
    Visit("a section's own page", ANSWER + "/sections/2"),
    Visit("unanswered question", "/q/how-fast-can-an-ostrich-run"),
    Visit("category", "/c/science"),
    Visit("search results", "/search?q=lightning"),
    Visit("search results while typing", "/about", before=type_a_search),
    Visit("search with no results", "/search?q=zzyzxqq"),
    Visit("search with a result found by meaning", "/search?q=can+my+office+wifi+spot+pages+i+view+in+a+hidden+tab"),
    Visit("did you mean", "/search?q=vikngs"),
    Visit("explore", "/explore"),
    Visit("explorer", "/explore/why-is-the-sky-blue"),
    Visit("path between two questions", "/explore/path?from=why-is-the-sky-blue&to=napoleon-short"),
    Visit("most requested", "/requests"),
    Visit("support", "/support"),
    Visit("about", "/about"),
    Visit("404", "/q/no-such-question", status=404),
    Visit("answer page, the report form open", ANSWER, before=open_the_report_form),
    Visit("an answer's history", ANSWER + "/history"),
    Visit("what changed between two revisions", ANSWER + "/history/diff?from=1&to=2"),
    Visit("corrections", "/corrections"),
    Visit("a revision's own page, its citations open", ANSWER + "/history/1", before=open_the_citations),
    Visit("answer page, its citations open", ANSWER, before=open_the_citations),
    Visit("ask a question", "/ask"),
    Visit("ask, a mistake in the form (422)", "/ask", before=ask_in_symbols),
    Visit("ask, is it one of these?", "/ask", before=offer_questions),
    Visit("ask, already on the site", "/ask", before=ask_a_known_question),
    Visit("ask, waiting for review", "/ask", before=ask_anyway),
    Visit("a reader's own question, waiting", "/ask", before=see_my_question),
    Visit("register", "/register"),
    Visit("login", "/login", after=log_in),
    Visit("account (logged in, a report's outcome, their questions)", "/account", before=lists_my_questions),
    Visit("questions followed (logged in)", "/account/following", before=lists_the_followed_answer),
    Visit("answer page, followed (logged in)", ANSWER),
    Visit("my support (logged in)", "/support/mine", before=lists_the_pledge),
    Visit("orphans (editor)", "/explore/orphans"),
    Visit("search gaps (editor)", "/search/gaps"),
    Visit("the desk's home (editor)", "/desk/"),
    Visit("editing an answer (editor)", EDITED),
    Visit("editing an answer, a broken rule (editor, 422)", EDITED, before=break_a_rule),
    Visit("editing an answer, a conflict (editor, 409)", EDITED, before=meet_a_conflict),
    Visit("answering a requested question (editor)", f"/desk/new?question={UNANSWERED}"),
    Visit("readers' reports (editor)", "/desk/reports"),
    Visit("readers' reports, all states (editor)", "/desk/reports?state=all"),
    Visit("readers' questions, pending (editor)", "/desk/asks"),
    Visit("readers' questions, one declined in place (editor)", "/desk/asks", before=decline_a_readers_question),
    Visit("readers' questions, all states (editor)", "/desk/asks?state=all"),
    Visit("a reader's question (editor)", "/desk/asks", before=open_a_readers_question),
    Visit("answer page, a report's thank-you (logged in)", ANSWER, before=send_a_report),
]


@pytest.mark.parametrize("viewport, scheme", [(DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")],
                         ids=["desktop-light", "desktop-dark", "phone-light", "phone-dark"])
def test_every_page_kind_has_no_axe_violations(browser, site, viewport, scheme):
    context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    how = f"{'desktop' if viewport is DESKTOP else 'phone'}, {scheme}"
    found = []
    try:
        for visit in VISITS:
            response = page.goto(site + visit.path)
            assert response.status == visit.status, f"{visit.path}: {response.status}"
            if visit.before:
                settle(page)
                visit.before(page)
            found += axe_violations(page, f"{visit.name}: {visit.path} ({how})")
            if visit.after:
                visit.after(page)
    finally:
        context.close()
    if found:
        pytest.fail(report(found), pytrace=False)
