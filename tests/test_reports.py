"""Readers' reports: the form on every question's page, the editors' queue at
/desk/reports and their decisions, what a reader sees on /account, and forgetting a
deleted account."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from tests.pages import HTMX, attrs, csrf_token, form_token, links, part, tags, text_of
from tests.readers import PASSWORD, sign_in
from webapp.accounts.models import User
from webapp.answers import service as answers
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.reports import service
from webapp.reports.models import ACCEPTED, DECLINED, FIXED, NEW, Report
from webapp.revisions import service as revisions

SKY = "/q/why-is-the-sky-blue"  # answered
GOLDFISH = "/q/goldfish-memory"  # answered
OSTRICH = "/q/how-fast-can-an-ostrich-run"  # not answered yet
UMAMI = "/q/what-is-umami"  # not answered yet
WHAT = "The second paragraph says Rayleigh published in 1881; it was 1871."
READER, EDITOR = "reader@example.org", "editor@example.org"


# --- helpers -----------------------------------------------------------------------------------

def token(client, url=SKY) -> str:
    return form_token(text_of(client.get(url)))


def send(client, url=SKY, htmx=True, csrf=True, **fields):
    data = {"what": WHAT, **fields}
    if csrf:
        data["csrf_token"] = token(client, url)
    return client.post(f"{url}/report", data=data, headers=HTMX if htmx else {})


def stored(app) -> list[dict]:
    with app.app_context():
        return [{c: getattr(r, c) for c in ("id", "question_id", "what", "source_url", "email", "user_id", "state",
                                             "revision_id", "editor_note", "decided_by")}
                for r in db.session.scalars(select(Report).order_by(Report.id))]


def question_id(app, url) -> int:
    with app.app_context():
        return answers.question_by_slug(db.session, url.rsplit("/", 1)[1]).id


def revision_ids(app, url) -> list[int]:
    """The question's revisions, newest first (the demo's import made one each)."""
    with app.app_context():
        return [r.id for r in revisions.history(db.session, question_id(app, url))]


def add_report(app, url=SKY, what=WHAT, created_at=None, **values) -> int:
    with app.app_context():
        report = Report(question_id=question_id(app, url), what=what, created_at=created_at or utcnow(), **values)
        db.session.add(report)
        db.session.commit()
        return report.id


def browser(app, address: str):
    """A test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in_editor(app, client, email=EDITOR, name="Ed Itor") -> int:
    user_id = sign_in(app, client, email, name)
    with app.app_context():
        db.session.get(User, user_id).is_editor = True
        db.session.commit()
    return user_id


def decide(client, report_id, htmx=False, csrf=True, back=None, **fields):
    data = dict(fields)
    if csrf:
        data["csrf_token"] = csrf_token(client, "/desk/reports")
    if back:
        data["back"] = back
    return client.post(f"/desk/reports/{report_id}", data=data, headers=HTMX if htmx else {})


def report_box(text: str) -> str:
    return part(text, '<div id="report-box"', "</div>\n</details>" if "<details" in text else "\n</div>")


# --- the form on every question ----------------------------------------------------------------

@pytest.mark.parametrize("url", [SKY, OSTRICH])
def test_every_question_page_has_the_form_behind_a_disclosure(demo, client, url):
    response = client.get(url)
    page = text_of(response)
    disclosure = part(page, '<details class="report" id="report">', "</details>")
    assert "<summary>Report an error or suggest a source</summary>" in disclosure
    form = tags(disclosure, "form")[0]
    assert form["method"] == "post" and form["action"] == form["hx-post"] == f"{url}/report"
    assert 'name="csrf_token"' in disclosure
    assert 'name="what"' in disclosure and 'name="source_url"' in disclosure
    assert 'name="email"' in disclosure  # logged out: an address for a reply, if they like
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'class="editor-links"' not in page  # editors only


@pytest.mark.parametrize("url", [SKY, OSTRICH])
def test_the_form_is_a_page_of_its_own_and_a_fragment(demo, client, url):
    page = client.get(f"{url}/report")
    assert page.status_code == 200 and "<html" in text_of(page)
    assert '<h1 id="report-heading">Report an error or suggest a source</h1>' in text_of(page)
    assert 'name="what"' in text_of(page)
    fragment = client.get(f"{url}/report", headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in text_of(fragment)
    assert text_of(fragment).strip().startswith('<div id="report-box"')
    assert fragment.headers["Cache-Control"] == "private, no-store"
    assert client.get("/q/no-such-question/report").status_code == 404


def test_editors_see_their_links_on_question_pages(demo, client):
    sign_in_editor(demo, client)
    assert ("/desk/q/why-is-the-sky-blue/edit", "Edit this answer") in links(
        part(text_of(client.get(SKY)), '<nav class="editor-links"', "</nav>"))
    assert ("/desk/new?question=how-fast-can-an-ostrich-run", "Answer this question") in links(
        part(text_of(client.get(OSTRICH)), '<nav class="editor-links"', "</nav>"))


@pytest.mark.parametrize("url", [SKY, OSTRICH])
def test_with_htmx_the_form_is_swapped_for_the_thank_you(demo, client, url):
    response = send(client, url, source_url="https://www.example.org/ikeda-1908", email="Reader@Example.ORG ")
    assert response.status_code == 200
    body = text_of(response)
    assert "<html" not in body
    assert "Thank you — we received your report." in body
    # htmx moves focus to [autofocus] in what it swapped in: the thank-you.
    assert re.search(r'<div class="report-received" role="status" tabindex="-1" autofocus>', body)
    assert ("/q/" + url.rsplit("/", 1)[1], f"Back to “{html.unescape(_question_text(demo, url))}”") in links(body)
    [kept] = stored(demo)
    assert kept | {"id": None} == {"id": None, "question_id": question_id(demo, url), "what": WHAT,
                                   "source_url": "https://www.example.org/ikeda-1908", "email": "reader@example.org",
                                   "user_id": None, "state": NEW, "revision_id": None, "editor_note": None,
                                   "decided_by": None}


def _question_text(app, url) -> str:
    with app.app_context():
        return answers.question_by_slug(db.session, url.rsplit("/", 1)[1]).text


def test_without_javascript_a_report_leads_to_a_thank_you_page(demo, client):
    response = send(client, htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == f"{SKY}/report"
    thanks = client.get(response.headers["Location"])
    page = text_of(thanks)
    assert "<html" in page and "<title>Thank you — we received your report — Plumb</title>" in page
    assert '<h1 id="report-heading">Thank you — we received your report</h1>' in page
    assert (SKY, "Back to “Why is the sky blue?”") in links(page)
    assert thanks.headers["Cache-Control"] == "private, no-store"
    # Once: the same address later (or reloaded after going back) is the form again.
    assert 'name="what"' in text_of(client.get(f"{SKY}/report"))
    assert len(stored(demo)) == 1


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_a_report_without_a_csrf_token_is_refused_and_nothing_is_written(demo, client, htmx):
    response = send(client, htmx=htmx, csrf=False)
    assert response.status_code == 400
    body = text_of(response)
    assert "security token is missing or wrong" in body
    assert ("<html" in body) is not htmx
    assert WHAT in html.unescape(body)  # what the reader wrote is kept in the form
    assert stored(demo) == []
    forged = client.post(f"{SKY}/report", data={"what": WHAT}, headers={**HTMX, "X-CSRFToken": "forged.token"})
    assert forged.status_code == 400 and stored(demo) == []


BAD_INPUT = [
    # fields, the field marked, words of its message
    ({"what": ""}, "what", "Tell us what is wrong"),
    ({"what": "  \n\t  "}, "what", "Tell us what is wrong"),
    ({"what": "Too short"}, "what", "at least 10 characters"),
    ({"what": "   Wrong!  \u202e  "}, "what", "at least 10 characters"),  # cleaned before it is counted
    ({"what": "x" * 2001}, "what", "keep it to 2,000 characters"),
    ({"source_url": "javascript:alert(1)"}, "source_url", "starts with http:// or https://"),
    ({"source_url": "ftp://example.org/file"}, "source_url", "starts with http:// or https://"),
    ({"source_url": "example.org/page"}, "source_url", "starts with http:// or https://"),
    ({"source_url": "https://"}, "source_url", "starts with http:// or https://"),
    ({"source_url": "https://exa mple.org/"}, "source_url", "starts with http:// or https://"),
    ({"source_url": "https://" + "a" * 2000 + ".org"}, "source_url", "starts with http:// or https://"),
    ({"email": "not-an-address"}, "email", "like name@example.org"),
    ({"email": "a@b"}, "email", "like name@example.org"),
    ({"email": "a@@example.org"}, "email", "like name@example.org"),
]


@pytest.mark.parametrize("fields, name, words", BAD_INPUT, ids=[f"{n}-{i}" for i, (_, n, _) in enumerate(BAD_INPUT)])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_each_rule_is_a_422_with_the_form_kept_and_nothing_written(demo, client, fields, name, words, htmx):
    response = send(client, htmx=htmx, **({"source_url": "https://example.org/kept"} | fields))
    assert response.status_code == 422
    body = text_of(response)
    assert ("<html" in body) is not htmx
    error = re.search(rf'<small id="report-{name}-error" class="field-error">(.*?)</small>', body)
    assert error and words.lower() in html.unescape(error.group(1)).lower()
    # The field points at its message, is marked invalid, and takes the focus after the swap.
    [tag] = re.findall(rf'<(?:textarea|input)\b[^>]*name="{name}"[^>]*>', body)
    marked = attrs(tag)
    assert f"report-{name}-error" in marked["aria-describedby"] and marked["aria-invalid"] == "true"
    assert re.search(r"\sautofocus\b", tag)
    if name != "what":
        assert WHAT in html.unescape(body)  # the rest of what was written is kept
    if name != "source_url":
        assert 'value="https://example.org/kept"' in body
    assert stored(demo) == []


def test_text_is_kept_without_control_or_format_characters_but_with_its_lines(demo, client):
    send(client, what="First line\u202e reversed\u0000\r\n\r\n\r\n\r\nSecond   line\u200b here  ")
    assert stored(demo)[0]["what"] == "First line reversed\n\nSecond line here"


def test_a_logged_out_reader_may_leave_an_email_and_a_logged_in_one_uses_the_account(demo, app, client):
    send(client, email="someone@example.org")
    reader = app.test_client()
    user_id = sign_in(demo, reader, READER)
    form = part(text_of(reader.get(SKY)), '<details class="report"', "</details>")
    assert 'name="email"' not in form and "Sent from your account" in form
    thanks = text_of(send(reader, email="elsewhere@example.org"))  # an address sent anyway is not kept
    assert ("/account#your-reports", "your account") in links(thanks)
    first, second = stored(demo)
    assert (first["email"], first["user_id"]) == ("someone@example.org", None)
    assert (second["email"], second["user_id"]) == (None, user_id)


# --- rate limits -------------------------------------------------------------------------------

def test_reports_are_limited_per_address(demo, app):
    demo.config["REPORT_LIMIT"] = "2 per hour"
    first, second = app.test_client(), app.test_client()  # two browsers, one address
    assert send(first, what="").status_code == 422  # a form sent back does not use up the allowance
    assert send(first).status_code == 200
    assert send(second, htmx=False).status_code == 303
    refused = send(first)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    body = text_of(refused)
    assert "<html" not in body and "Nothing was sent" in body and WHAT in html.unescape(body)  # kept to send later
    assert send(second, htmx=False).status_code == 429
    assert len(stored(demo)) == 2
    elsewhere = browser(app, "192.0.2.7")
    assert send(elsewhere).status_code == 200


def test_reports_are_limited_per_account_from_any_address(demo, app):
    demo.config["REPORT_LIMIT"] = "2 per hour"
    home = browser(app, "192.0.2.1")
    sign_in(demo, home, READER)
    assert send(home).status_code == 200 and send(home).status_code == 200
    # The same account on another network: its own allowance is used up.
    with home.session_transaction() as kept:
        cookie = dict(kept)
    phone = browser(app, "198.51.100.9")
    with phone.session_transaction() as session:
        session.update(cookie)
    assert send(phone).status_code == 429
    # Someone else at that address is not held up by it.
    assert send(browser(app, "198.51.100.9")).status_code == 200
    assert len(stored(demo)) == 3


# --- the editors' queue ------------------------------------------------------------------------

def test_the_queue_shows_reports_escaped_with_who_sent_them(demo, app, client):
    reader = app.test_client()
    sign_in(demo, reader, READER, "Rea <b>Der</b>")
    send(reader, what="The summary has <script>alert('x')</script> in it & more")
    add_report(demo, OSTRICH, what="Ostriches run at 70 km/h, see this", email="someone@example.org",
               source_url="javascript:alert(1)", created_at=utcnow() - dt.timedelta(days=3))
    add_report(demo, GOLDFISH, what="An anonymous note about goldfish", source_url="https://example.org/study",
               created_at=utcnow() - dt.timedelta(hours=5))
    sign_in_editor(demo, client)
    response = client.get("/desk/reports")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    page = text_of(response)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; in it &amp; more" in page
    assert "Rea &lt;b&gt;Der&lt;/b&gt;" in page and "<b>Der</b>" not in page
    rows = re.findall(r'<li id="report-\d+" class="report-row is-new".*?</li>', page, re.S)
    assert len(rows) == 3
    newest, goldfish, ostrich = rows  # newest first
    assert "just now" in newest and "from Rea" in newest
    assert "5 hours ago" in goldfish and "anonymous" in goldfish
    assert '<a href="https://example.org/study" rel="nofollow noopener ugc">' in goldfish
    assert "3 days ago" in ostrich and '<a href="mailto:someone@example.org">email given</a>' in ostrich
    assert 'href="javascript' not in page and '<span class="report-source-unlinked">javascript:alert(1)</span>' in ostrich
    assert (SKY, "Why is the sky blue?") in links(newest)
    assert ("/desk/q/why-is-the-sky-blue/edit", "Edit this answer") in links(newest)
    assert ("/desk/new?question=how-fast-can-an-ostrich-run", "Answer this question") in links(ostrich)
    # Each row's decision: the three states, a note, and this question's revisions for "fixed".
    form = part(newest, '<form method="post"', "</form>")
    assert [t["value"] for t in tags(form, "input") if t.get("name") == "state"] == [ACCEPTED, DECLINED, FIXED]
    options = [t["value"] for t in tags(form, "option")]
    assert options and [int(v) for v in options] == revision_ids(demo, SKY)


def test_the_queue_filters_by_state_and_pages(demo, client):
    demo.config["REPORTS_PAGE_SIZE"] = 2
    now = utcnow()
    ids = [add_report(demo, what=f"Report number {i} about the sky", created_at=now - dt.timedelta(minutes=i))
           for i in range(3)]
    declined = add_report(demo, what="An old declined report", state=DECLINED, created_at=now - dt.timedelta(days=1))
    sign_in_editor(demo, client)

    def shown(text):
        return [int(n) for n in re.findall(r'<li id="report-(\d+)"', text)]

    first = text_of(client.get("/desk/reports"))
    assert shown(first) == ids[:2] and "Page 1 of 2" in first
    assert 'aria-current="page">New</a>' in first
    second = client.get("/desk/reports?page=2", headers=HTMX)
    assert "<html" not in text_of(second) and text_of(second).strip().startswith('<div id="report-list">')
    assert shown(text_of(second)) == ids[2:]
    assert shown(text_of(client.get("/desk/reports?state=declined"))) == [declined]
    everything = text_of(client.get("/desk/reports?state=all")) + text_of(client.get("/desk/reports?state=all&page=2"))
    assert shown(everything) == ids + [declined]
    assert "No fixed reports." in text_of(client.get("/desk/reports?state=fixed"))
    assert client.get("/desk/reports?state=bogus").status_code == 400
    assert client.get("/desk/reports?page=3").status_code == 404
    assert client.get("/desk/reports/999999").status_code == 404


def desk_routes(report_id: int) -> list[tuple[str, str]]:
    return [("GET", "/desk/reports"), ("GET", "/desk/reports?state=all"), ("GET", f"/desk/reports/{report_id}"),
            ("POST", f"/desk/reports/{report_id}")]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_reader_gets_403_on_every_queue_route(demo, client, htmx):
    report_id = add_report(demo)
    sign_in(demo, client, READER)
    for method, url in desk_routes(report_id):
        data = {"csrf_token": csrf_token(client, SKY), "state": ACCEPTED} if method == "POST" else None
        response = client.open(url, method=method, data=data, headers=HTMX if htmx else {})
        assert response.status_code == 403, (method, url)
        assert "This page is for editors." in text_of(response)
        assert ("<html" in text_of(response)) is not htmx
    assert stored(demo)[0]["state"] == NEW


def test_a_visitor_is_sent_to_log_in(demo, client):
    report_id = add_report(demo)
    for method, url in desk_routes(report_id):
        data = {"csrf_token": csrf_token(client, SKY), "state": ACCEPTED} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), (method, url)
        fragment = client.open(url, method=method, data=data, headers=HTMX)
        assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login")
    assert client.get("/desk/reports").headers["Location"] == "/login?next=/desk/reports"
    assert stored(demo)[0]["state"] == NEW


# --- decisions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("state", [ACCEPTED, DECLINED, FIXED])
def test_a_decision_without_javascript_goes_back_to_the_queue(demo, client, state):
    report_id = add_report(demo)
    editor_id = sign_in_editor(demo, client)
    newest = revision_ids(demo, SKY)[0]
    response = decide(client, report_id, state=state, note="  Thanks,\u202e checked  ", revision=newest,
                      back="/desk/reports?state=all&page=1")
    assert response.status_code == 303 and response.headers["Location"] == "/desk/reports?state=all&page=1"
    [kept] = stored(demo)
    assert (kept["state"], kept["editor_note"], kept["decided_by"]) == (state, "Thanks, checked", editor_id)
    assert kept["revision_id"] == (newest if state == FIXED else None)
    row = part(text_of(client.get(response.headers["Location"])), f'<li id="report-{report_id}"', "</li>")
    assert f"{state.capitalize()} on " in row and "Note for the reader: “Thanks, checked”" in row
    # Somewhere else than the queue is not where a decision leads.
    assert decide(client, report_id, state=ACCEPTED, back="https://evil.example/").headers["Location"] == "/desk/reports"


@pytest.mark.parametrize("state", [ACCEPTED, DECLINED, FIXED])
def test_a_decision_with_htmx_swaps_the_row(demo, client, state):
    report_id = add_report(demo)
    sign_in_editor(demo, client)
    newest = revision_ids(demo, SKY)[0]
    response = decide(client, report_id, htmx=True, state=state, revision=newest)
    assert response.status_code == 200
    body = text_of(response)
    assert "<html" not in body and body.strip().startswith(f'<li id="report-{report_id}" class="report-row is-{state}"')
    assert re.search(r'<p class="report-decided" role="status" tabindex="-1" autofocus>\s*Saved: ', body)
    if state == FIXED:
        assert "by revision 1" in body
    assert stored(demo)[0]["state"] == state


def test_a_report_has_a_page_of_its_own(demo, client):
    report_id = add_report(demo)
    sign_in_editor(demo, client)
    page = text_of(client.get(f"/desk/reports/{report_id}?back=/desk/reports%3Fstate%3Dall"))
    assert "<html" in page and WHAT in html.unescape(page)
    assert ("/desk/reports?state=all", "Back to the reports") in links(page)
    fragment = text_of(client.get(f"/desk/reports/{report_id}", headers=HTMX))
    assert fragment.strip().startswith(f'<li id="report-{report_id}"')


REFUSED = [
    ({"state": FIXED, "revision": "other"}, "Choose one of this answer’s revisions."),
    ({"state": FIXED, "revision": ""}, "Choose the revision that fixed it."),
    ({"state": FIXED, "revision": "999999"}, "Choose one of this answer’s revisions."),
    ({"state": FIXED, "revision": "1e3"}, "Choose one of this answer’s revisions."),
    ({"state": NEW}, "Choose accepted, declined or fixed."),
    ({"state": "deleted"}, "Choose accepted, declined or fixed."),
    ({}, "Choose accepted, declined or fixed."),
    ({"state": DECLINED, "note": "n" * 501}, "Keep the note to 500 characters"),
]


@pytest.mark.parametrize("fields, words", REFUSED, ids=[f"refused-{i}" for i in range(len(REFUSED))])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_a_decision_that_cannot_be_taken_is_a_422_and_changes_nothing(demo, client, fields, words, htmx):
    report_id = add_report(demo)
    sign_in_editor(demo, client)
    if fields.get("revision") == "other":
        fields = fields | {"revision": revision_ids(demo, GOLDFISH)[0]}  # another question's revision
    before = stored(demo)
    response = decide(client, report_id, htmx=htmx, **fields)
    assert response.status_code == 422
    body = text_of(response)
    assert ("<html" in body) is not htmx
    assert "Nothing was changed:" in body and words in html.unescape(body)
    assert stored(demo) == before


def test_a_decision_without_a_csrf_token_changes_nothing(demo, client):
    report_id = add_report(demo)
    sign_in_editor(demo, client)
    assert decide(client, report_id, csrf=False, state=ACCEPTED).status_code == 400
    assert stored(demo)[0]["state"] == NEW


def test_waiting_reports_for_the_desks_home(demo):
    now = utcnow()
    older = add_report(demo, created_at=now - dt.timedelta(hours=2))
    newer = add_report(demo, OSTRICH, created_at=now - dt.timedelta(hours=1))
    add_report(demo, state=ACCEPTED)
    with demo.app_context():
        assert service.waiting_count(db.session) == 2
        waiting = service.waiting(db.session, 5)
        assert [r.id for r in waiting] == [newer, older]
        assert waiting[0].question.slug == "how-fast-can-an-ostrich-run"
        assert [r.id for r in service.waiting(db.session, 1)] == [newer]


# --- what the reader sees ----------------------------------------------------------------------

def test_the_reader_sees_what_became_of_their_reports_on_their_account(demo, app, client):
    sign_in(demo, client, READER)
    section = part(text_of(client.get("/account")), '<section id="your-reports"')
    assert "Your reports" in section and "what becomes of it shows here" in section
    for url in (SKY, OSTRICH, GOLDFISH, UMAMI):
        assert send(client, url).status_code == 200
    sky, ostrich, goldfish, _umami = (r["id"] for r in stored(demo))
    editor = app.test_client()
    editor_id = sign_in_editor(demo, editor)
    with demo.app_context():  # the editor's correction: revision 2 of the answer
        sky_question = answers.question_by_slug(db.session, "why-is-the-sky-blue")
        fix = revisions.record(db.session, sky_question, "correction", "The year Rayleigh published", editor_id)
        db.session.commit()
        fix = fix.id
    assert decide(editor, sky, state=FIXED, revision=fix, note="Corrected the date").status_code == 303
    decide(editor, ostrich, state=ACCEPTED)
    decide(editor, goldfish, state=DECLINED, note="The <study> you cite was retracted")
    section = part(text_of(client.get("/account")), '<section id="your-reports"')
    items = re.findall(r"<li class=\"your-report.*?</li>", section, re.S)
    flat = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]
    today = utcnow().date()
    assert flat[0].startswith("What is umami?") and "Received" in flat[0]
    assert "Declined: The <study> you cite was retracted" in flat[1]
    assert "&lt;study&gt;" in items[1]
    assert "Accepted — we are working on it" in flat[2]
    assert f"Fixed on {today.day} {today:%B %Y} — see what changed" in flat[3]
    assert "Note from the editors: Corrected the date" in flat[3]
    [(href, _)] = [link for link in links(items[3]) if link[1] == "see what changed"]
    assert href == f"{SKY}/history/diff?from=1&to=2"  # what revision 2 changed
    assert client.get(href).status_code == 200
    # Someone else's account shows none of them.
    other = app.test_client()
    sign_in(demo, other, "other@example.org", "Other")
    assert "<li class=\"your-report" not in text_of(other.get("/account"))


def test_deleting_an_account_detaches_its_reports_and_forgets_its_address(demo, app, client):
    user_id = sign_in(demo, client, READER)
    send(client)
    logged_out = app.test_client()
    send(logged_out, email=READER)  # the same person, logged out, with the account's address
    send(app.test_client(), email="someone.else@example.org")
    response = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 303
    mine, theirs_logged_out, someone_else = stored(demo)
    assert (mine["user_id"], mine["email"]) == (None, None)
    assert (theirs_logged_out["user_id"], theirs_logged_out["email"]) == (None, None)
    assert someone_else["email"] == "someone.else@example.org"
    assert mine["what"] == WHAT  # the report itself stays for the editors
    editor = app.test_client()
    sign_in_editor(demo, editor)
    row = part(text_of(editor.get("/desk/reports")), f'<li id="report-{mine["id"]}"', "</li>")
    assert "anonymous" in row and "email given" not in row  # no name, no address
    with demo.app_context():
        assert service.of_user(db.session, user_id) == []
