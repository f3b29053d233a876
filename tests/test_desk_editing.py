"""Editing answers at the desk: the form as a page and as htmx fragments, every content
rule reachable from it, revisions, conflicts between two editors, re-checking, and the
new answer for a question readers asked for."""
from __future__ import annotations

import datetime as dt
import html
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from tests.answer_files import VALID, answer, write
from tests.pages import HTMX, text_of
from tests.readers import sign_in
from webapp.accounts.models import User
from webapp.answers.models import Question
from webapp.content.importer import import_folder
from webapp.extensions import db
from webapp.revisions.models import Revision


class _Form(HTMLParser):
    """The fields the first form with method=post would send, as a browser sends them."""

    def __init__(self, action_part: str):
        super().__init__()
        self.action_part, self.inside, self.done = action_part, False, False
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and self.action_part in (a.get("action") or "") and a.get("method") == "post":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value") or ""))

    def handle_data(self, data):
        if self.textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_of(html: str, action_part: str = "/desk/") -> dict[str, str]:
    parser = _Form(action_part)
    parser.feed(html)
    fields = dict(parser.fields)
    if "body" in fields:
        fields["body"] = fields["body"].removeprefix("\n")
    return fields


@pytest.fixture
def answered(app, content_dir):
    write(content_dir, "lightning.md")
    write(content_dir, "tower.md", answer("tower-strikes", "How often is a skyscraper struck by lightning?",
                                          related=["Is it safe to shower during a thunderstorm?"]))
    with app.app_context():
        report = import_folder(db.session, content_dir)
        assert not report.rejected, report.rejected
    return "lightning-twice"


def signed_in_editor(app, client, email: str = "ed@example.org", name: str = "Edie Tor") -> int:
    user_id = sign_in(app, client, email=email, name=name)
    with app.app_context():
        db.session.get(User, user_id).is_editor = True
        db.session.commit()
    return user_id


@pytest.fixture
def editor(app, client):
    return signed_in_editor(app, client)


def edit_form(client, slug: str) -> dict[str, str]:
    page = client.get(f"/desk/q/{slug}/edit")
    assert page.status_code == 200, page.status_code
    return form_of(page.get_data(as_text=True))


def revisions_of(app, slug: str) -> list[Revision]:
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        rows = db.session.scalars(select(Revision).where(Revision.question_id == question.id)
                                  .order_by(Revision.number)).all()
        db.session.expunge_all()
        return rows


def question_row(app, slug: str) -> Question:
    with app.app_context():
        found = db.session.scalar(select(Question).where(Question.slug == slug))
        db.session.expunge_all()
        return found


# --- who may edit ----------------------------------------------------------------------------------

ROUTES = [("get", "/desk/q/lightning-twice/edit"), ("post", "/desk/q/lightning-twice/edit"), ("get", "/desk/new"),
          ("post", "/desk/new"), ("post", "/desk/preview"), ("get", "/desk/questions?related_query=tower"),
          ("post", "/desk/q/lightning-twice/recheck")]


@pytest.mark.parametrize("method,url", ROUTES)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_reader_gets_403_on_every_editing_route(app, client, answered, method, url, htmx):
    sign_in(app, client)
    answer_ = getattr(client, method)(url, headers=HTMX if htmx else {}, data={})
    assert answer_.status_code in (403, 400) if method == "post" else answer_.status_code == 403
    if method == "get":
        assert answer_.status_code == 403
    assert len(revisions_of(app, "lightning-twice")) == 1  # the import's, nothing more


@pytest.mark.parametrize("method,url", [ROUTES[0], ROUTES[2], ROUTES[5]])
def test_a_visitor_is_sent_to_log_in(client, answered, method, url):
    answer_ = getattr(client, method)(url)
    assert answer_.status_code in (302, 303) and "/login" in answer_.headers["Location"]


def test_the_import_records_a_revision_naming_its_file(app, answered):
    [first] = revisions_of(app, "lightning-twice")
    assert (first.number, first.kind, first.note, first.editor_id) == (1, "update", "imported from lightning.md", None)
    assert first.text.startswith("---\nquestion: Does lightning ever strike the same place twice?")


# --- the form ----------------------------------------------------------------------------------------

def test_the_form_holds_the_answer_as_the_file_says_it(client, editor, answered):
    form = edit_form(client, "lightning-twice")
    assert form["question"] == "Does lightning ever strike the same place twice?"
    assert (form["category"], form["checked_on"], form["base"]) == ("science", "2025-11-08", "1")
    assert form["sources-1-url"] == "https://example.org/towers" and form["sources-0-publisher"] == "Example Weather Service"
    assert form["related-0"] == "How often is a skyscraper struck by lightning?"
    assert form["body"].startswith("Yes: tall structures are struck again and again [1] [2].\n\n## Why tall")


def test_saving_a_correction_changes_the_page_and_keeps_a_revision(app, client, editor, answered):
    form = edit_form(client, "lightning-twice")
    form.update(body=form["body"].replace("again and again", "again and again, up to 25 times a year"),
                kind="correction", note="The strike count was missing", action="save")
    saved = client.post("/desk/q/lightning-twice/edit", data=form)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/q/lightning-twice")
    assert "up to 25 times a year" in text_of(client.get("/q/lightning-twice"))
    latest = revisions_of(app, "lightning-twice")[-1]
    assert (latest.number, latest.kind, latest.note, latest.editor_id) == (2, "correction",
                                                                          "The strike count was missing", editor)
    assert "up to 25 times a year" in latest.text
    assert question_row(app, "lightning-twice").corrected_on == dt.date.today()


def test_saving_with_htmx_is_told_where_to_go(client, editor, answered):
    form = edit_form(client, "lightning-twice")
    form.update(note="Clearer", action="save", body=form["body"] + "\n\nOne more sentence [1].")
    saved = client.post("/desk/q/lightning-twice/edit", data=form, headers=HTMX)
    assert saved.status_code == 200 and saved.headers["HX-Redirect"].endswith("/q/lightning-twice")


def test_row_buttons_change_the_form_and_save_nothing(app, client, editor, answered):
    form = edit_form(client, "lightning-twice")
    moved = client.post("/desk/q/lightning-twice/edit", data={**form, "action": "down-source-0"}, headers=HTMX)
    fragment = moved.get_data(as_text=True)
    assert moved.status_code == 200 and "<html" not in fragment and 'id="editor"' in fragment
    after = form_of(fragment)
    assert after["sources-0-url"] == "https://example.org/towers" and after["sources-1-url"].endswith("lightning-myths")
    added = form_of(client.post("/desk/q/lightning-twice/edit", data={**form, "action": "add-source"}).get_data(as_text=True))
    assert "sources-2-title" in added
    removed = form_of(client.post("/desk/q/lightning-twice/edit", data={**form, "action": "remove-related-0"})
                      .get_data(as_text=True))
    assert "related-0" not in removed
    assert len(revisions_of(app, "lightning-twice")) == 1


def test_the_finder_picks_a_related_question_by_its_address(client, editor, answered):
    found = client.get("/desk/questions?related_query=skyscraper struck", headers=HTMX)
    assert found.status_code == 200 and "pick-related:tower-strikes" in found.get_data(as_text=True)
    form = edit_form(client, "lightning-twice")
    form.pop("related-0")
    picked = form_of(client.post("/desk/q/lightning-twice/edit",
                                 data={**form, "action": "pick-related:tower-strikes"}).get_data(as_text=True))
    assert picked["related-0-slug"] == "tower-strikes"
    picked.update(note="Linked by address", action="save")
    assert client.post("/desk/q/lightning-twice/edit", data=picked).status_code == 303


def test_the_preview_renders_as_the_answer_page_and_names_a_broken_rule(client, editor, answered):
    form = edit_form(client, "lightning-twice")
    shown = client.post("/desk/preview", data=form, headers=HTMX).get_data(as_text=True)
    assert "<html" not in shown and "Lightning myths and facts" in shown and "<h3>1. Why tall" in shown
    broken = client.post("/desk/preview", data={**form, "body": form["body"] + "\n\nSee [9]."}, headers=HTMX)
    assert "citation [9] but only 2 sources" in broken.get_data(as_text=True)
    page = client.post("/desk/q/lightning-twice/edit", data={**form, "action": "preview"})
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)


# --- every rule the importer has, from the form ------------------------------------------------

RULES = [
    ({"question": ""}, "question", "question must be non-empty text"),
    ({"question": "x" * 301}, "question", "question is longer than 300 characters"),
    ({"category": "Not A Slug"}, "category", "category must be 1-80 characters"),
    ({"checked_on": ""}, "checked_on", "'checked_on' is required"),
    ({"checked_on": "yesterday"}, "checked_on", "checked_on must be an ISO date"),
    ({"status": "maybe"}, "status", "status must be 'answered' or 'unanswered'"),
    ({"sources-0-title": ""}, "sources-0-title", "source 1 title must be non-empty text"),
    ({"sources-1-url": "ftp://example.org/x"}, "sources-1-url", "source url must be an http or https address"),
    ({"sources-0-published": "June"}, "sources-0-published", "published must be an ISO date"),
    ({"sources-0-publisher": "p" * 301}, "sources-0-publisher", "publisher is longer than 300 characters"),
    ({"body": "Summary [3]."}, "body", "citation [3] but only 2 sources"),
    ({"body": "## Only a section\nText [1]."}, "body", "the summary before the first '## ' heading is empty"),
    ({"body": "Summary [1].\n\n## \nText."}, "body", "a section heading is empty"),
    ({"body": "Summary [1].\n\n## A heading with nothing under it"}, "body", "has no body"),
    ({"related-0": "Does lightning ever strike the same place twice?"}, "related-0",
     "a question cannot be related to itself"),
    ({"related-1": "how often is a skyscraper struck by lightning"}, "related-1", "listed twice"),
    ({"note": ""}, "note", "Say in one line what changed"),
    ({"kind": "rewrite"}, "kind", "correction, an update or a re-check"),
]


@pytest.mark.parametrize("changes,field,message", RULES, ids=[r[2][:40] for r in RULES])
def test_every_rule_of_the_content_format_is_reported_at_its_field_and_nothing_is_saved(
        app, client, editor, answered, changes, field, message):
    form = {**edit_form(client, "lightning-twice"), "note": "An edit", "action": "save", **changes}
    before = question_row(app, "lightning-twice").content_hash
    refused = client.post("/desk/q/lightning-twice/edit", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and message in html.unescape(page)
    if field not in ("kind", "note") and not field.startswith("related"):
        assert f'id="f-{field}-error"' in page  # beside its field
    assert question_row(app, "lightning-twice").content_hash == before
    assert len(revisions_of(app, "lightning-twice")) == 1


def test_a_new_answer_cannot_take_an_address_in_use_and_a_related_address_must_exist(client, editor, answered):
    form = form_of(client.get("/desk/new").get_data(as_text=True))
    form.update({"question": "A brand new question?", "slug": "lightning-twice", "category": "science",
                 "sources-0-title": "T", "sources-0-url": "https://example.org/t", "body": "Yes [1].",
                 "note": "New", "action": "save"})
    taken = client.post("/desk/new", data=form)
    assert taken.status_code == 422 and "slug 'lightning-twice' is already used" in html.unescape(text_of(taken))
    form.update(slug="brand-new", **{"related-0-slug": "nothing-here", "related-0-text": "Gone"})
    missing = client.post("/desk/new", data=form)
    assert missing.status_code == 422 and "related slug 'nothing-here' names no question" in html.unescape(text_of(missing))


def test_a_post_without_its_csrf_token_is_refused_and_saves_nothing(app, client, editor, answered):
    form = {**edit_form(client, "lightning-twice"), "note": "x", "action": "save"}
    form.pop("csrf_token")
    assert client.post("/desk/q/lightning-twice/edit", data=form).status_code == 400
    assert len(revisions_of(app, "lightning-twice")) == 1


def test_a_form_without_its_revision_number_is_a_400(client, editor, answered):
    form = {**edit_form(client, "lightning-twice"), "note": "x", "action": "save", "base": "latest"}
    assert client.post("/desk/q/lightning-twice/edit", data=form).status_code == 400


# --- two editors -------------------------------------------------------------------------------------

def test_two_editors_the_second_sees_the_first_ones_changes_merged_into_theirs(app, client, editor, answered):
    other = app.test_client()
    signed_in_editor(app, other, email="other@example.org", name="Other Editor")
    mine, theirs = edit_form(client, "lightning-twice"), edit_form(other, "lightning-twice")
    theirs.update(body=theirs["body"].replace("Seek shelter indoors [1].", "Seek shelter in a building [1]."),
                  note="Safer wording", action="save")
    assert other.post("/desk/q/lightning-twice/edit", data=theirs).status_code == 303
    mine.update(body=mine["body"].replace("Towers offer the shortest path [2].", "Towers offer a short path [2]."),
                question="Can lightning strike the same place twice?", note="Plainer", action="save")
    conflict = client.post("/desk/q/lightning-twice/edit", data=mine)
    shown = conflict.get_data(as_text=True)
    assert conflict.status_code == 409 and "Someone saved this answer while you were editing" in shown
    assert "<ins>building</ins>" in shown.replace("<ins>building [1].</ins>", "<ins>building</ins>") or "building" in shown
    merged = form_of(shown)
    assert "Seek shelter in a building [1]." in merged["body"] and "Towers offer a short path [2]." in merged["body"]
    assert merged["question"] == "Can lightning strike the same place twice?" and merged["base"] == "2"
    assert len(revisions_of(app, "lightning-twice")) == 2  # nothing of mine was saved yet
    merged.update(action="save", note="Plainer")
    assert client.post("/desk/q/lightning-twice/edit", data=merged).status_code == 303
    final = revisions_of(app, "lightning-twice")[-1].text
    assert "building" in final and "a short path" in final and "Can lightning strike" in final


def test_two_editors_changing_the_same_line_keep_the_second_ones_text_and_are_told(app, client, editor, answered):
    other = app.test_client()
    signed_in_editor(app, other, email="other@example.org", name="Other Editor")
    mine, theirs = edit_form(client, "lightning-twice"), edit_form(other, "lightning-twice")
    theirs.update(body=theirs["body"].replace("Seek shelter indoors", "Go inside"), note="Theirs", action="save")
    assert other.post("/desk/q/lightning-twice/edit", data=theirs).status_code == 303
    mine.update(body=mine["body"].replace("Seek shelter indoors", "Stay indoors"), note="Mine", action="save")
    conflict = client.post("/desk/q/lightning-twice/edit", data=mine)
    assert conflict.status_code == 409 and "you both changed the answer" in text_of(conflict)
    assert "Stay indoors" in form_of(conflict.get_data(as_text=True))["body"]


# --- re-checking, and answering a question readers asked for -------------------------------------

def test_marking_as_rechecked_sets_today_and_changes_no_text(app, client, editor, answered):
    form = edit_form(client, "lightning-twice")
    done = client.post("/desk/q/lightning-twice/recheck", data={"csrf_token": form["csrf_token"], "base": "1",
                                                                "note": "Sources still say so"})
    assert done.status_code == 303
    first, second = revisions_of(app, "lightning-twice")
    assert (second.kind, second.note) == ("re-check", "Sources still say so")
    assert first.text.replace("checked_on: '2025-11-08'", "").replace("checked_on: 2025-11-08", "") == \
        second.text.replace(f"checked_on: '{dt.date.today().isoformat()}'", "").replace(
            f"checked_on: {dt.date.today().isoformat()}", "")
    assert question_row(app, "lightning-twice").checked_on == dt.date.today()
    empty = client.post("/desk/q/lightning-twice/recheck", data={"csrf_token": form["csrf_token"], "base": "2",
                                                                 "note": " "})
    assert empty.status_code == 422 and len(revisions_of(app, "lightning-twice")) == 2


def test_answering_a_requested_question_takes_it_off_the_unanswered_lists(app, client, editor, answered):
    target = "is-it-safe-to-shower-during-a-thunderstorm"
    assert question_row(app, target).status == "unanswered"
    assert client.get("/requests").status_code == 200
    assert "Answer this question" in client.get(f"/q/{target}").get_data(as_text=True)
    form = form_of(client.get(f"/desk/new?question={target}").get_data(as_text=True))
    assert form["question"] == "Is it safe to shower during a thunderstorm?" and form["target"] == target
    form.update({"category": "science", "sources-0-title": "Storm safety", "sources-0-url": "https://example.org/storm",
                 "body": "No: plumbing conducts lightning [1].", "note": "First answer", "action": "save"})
    saved = client.post(f"/desk/new?question={target}", data=form)
    assert saved.status_code == 303, text_of(saved)
    row = question_row(app, target)
    assert row.status == "answered" and row.file_name == f"{target}.md"
    assert "plumbing conducts lightning" in text_of(client.get(f"/q/{target}"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question).where(Question.slug == target)) == 1
    assert target not in text_of(client.get("/requests"))
    assert client.get(f"/desk/new?question={target}").headers["Location"].endswith(f"/desk/q/{target}/edit")


def test_export_writes_the_text_the_desk_saved(app, client, editor, answered, tmp_path, runner):
    form = edit_form(client, "lightning-twice")
    form.update(body=form["body"].replace("Seek shelter indoors", "Go indoors"), note="Wording", action="save")
    assert client.post("/desk/q/lightning-twice/edit", data=form).status_code == 303
    assert runner.invoke(args=["content", "export", str(tmp_path / "out")]).exit_code == 0
    written = (tmp_path / "out" / "lightning.md").read_text()
    assert "Go indoors [1]." in written and written == revisions_of(app, "lightning-twice")[-1].text
    assert VALID.splitlines()[0] == written.splitlines()[0]


def test_the_requests_list_offers_editors_to_answer_each_question(app, client, answered):
    target = "is-it-safe-to-shower-during-a-thunderstorm"
    client.post(f"/q/{target}/request", data={"csrf_token": form_of(client.get(f"/q/{target}").get_data(as_text=True),
                                                                   f"/q/{target}/request").get("csrf_token", "")})
    assert "Answer this question" not in text_of(client.get("/requests"))
    editor_client = app.test_client()
    signed_in_editor(app, editor_client, email="ed2@example.org", name="Ed Two")
    listed = text_of(editor_client.get("/requests"))
    assert f'href="/desk/new?question={target}"' in listed


def test_a_new_answer_can_start_from_a_search_that_found_nothing(client, editor, answered):
    form = form_of(client.get("/desk/new?text=why is the sky blue").get_data(as_text=True))
    assert form["question"] == "why is the sky blue" and form["checked_on"] == dt.date.today().isoformat()
    assert "sources-0-url" in form  # one empty source row to fill


def test_an_editor_finds_the_desk_from_their_account_and_from_every_question(client, editor, answered):
    assert 'href="/desk/"' in text_of(client.get("/account"))
    page = text_of(client.get("/q/lightning-twice"))
    assert 'href="/desk/q/lightning-twice/edit"' in page and 'href="/desk/"' in page
    assert 'href="/q/lightning-twice/history"' in page


def test_readers_see_no_editor_links(app, client, answered):
    sign_in(app, client)
    assert "/desk/" not in text_of(client.get("/account")) and "/desk/" not in text_of(client.get("/q/lightning-twice"))


def test_the_preview_posted_without_htmx_is_the_whole_form(client, editor, answered):
    form = edit_form(client, "lightning-twice")
    page = client.post("/desk/preview", data=form)
    assert page.status_code == 200 and "<html" in text_of(page) and form_of(text_of(page))["base"] == "1"
