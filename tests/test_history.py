"""What readers see of an answer's history: /q/<slug>/history, the difference between two
revisions, /corrections, and "Corrected on" beside "Checked on" on the answer page (which
comes and goes with the date, though the answer's body is cached)."""
from __future__ import annotations

import datetime as dt
import html
import re
import types

import pytest
from sqlalchemy import delete, event, select

from tests.answer_files import answer, write
from tests.pages import get, links, tags, text_of
from webapp.accounts.models import User
from webapp.answers import bodies
from webapp.answers.cache import current_version
from webapp.answers.models import Question
from webapp.config import from_environment
from webapp.content.importer import import_folder
from webapp.extensions import db
from webapp.revisions import service
from webapp.revisions.models import CORRECTION, RECHECK, UPDATE, Revision

CORRECTED = "Corrected on"
NOINDEX = {"name": "robots", "content": "noindex"}


# --- helpers -------------------------------------------------------------------------------

def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def import_files(app, folder) -> None:
    with app.app_context():
        report = import_folder(db.session, folder)
        assert not report.rejected, report.rejected


def imported(app, folder, *slugs: str) -> None:
    """Answered questions `slugs`, each imported from its own file (revision 1)."""
    for slug in slugs:
        write(folder, f"{slug}.md", answer(slug, f"What about {slug.replace('-', ' ')}?"))
    import_files(app, folder)


def revise(app, slug: str, kind: str = UPDATE, note: str = "A change", summary: str | None = None,
           editor_id: int | None = None, when: dt.datetime | None = None) -> int:
    """Save a revision of `slug` as the desk would: change the summary (if given), record. Its number."""
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        if summary is not None:
            question.summary = summary
        number = service.record(db.session, question, kind, note, editor_id, now=when).number
        db.session.commit()
        return number


def account(app, name: str, deleted: bool = False) -> int:
    """An editor's account (a deleted one keeps its row: revisions still point at it)."""
    with app.app_context():
        user = User(email=f"{name.split()[0].lower()}@example.org", display_name=name, password_hash="",
                    session_token=name, is_editor=True, deleted_at=dt.datetime(2026, 1, 1) if deleted else None)
        db.session.add(user)
        db.session.commit()
        return user.id


def days_ago(days: int) -> dt.datetime:
    """Noon, `days` days before today: a correction dated that day."""
    return dt.datetime.combine(dt.date.today() - dt.timedelta(days=days), dt.time(12))


def rows(text: str) -> list[str]:
    """The revisions of a history page, in page order: each item's text, tags removed."""
    found = re.findall(r'<li id="revision-\d+">(.*?)</li>', text, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in found]


def selected(text: str, name: str) -> str:
    """The value of the chosen option of the <select> called `name`."""
    options = re.search(rf'<select name="{name}">(.*?)</select>', text, re.S).group(1)
    chosen = re.findall(r'<option value="(\d+)" selected>', options)
    assert len(chosen) == 1, chosen
    return chosen[0]


def diff_url(slug: str, first, second) -> str:
    return f"/q/{slug}/history/diff?from={first}&to={second}"


def diff_body(text: str) -> str:
    return re.search(r'<pre class="diff">(.*?)</pre>', text, re.S).group(1)


def correction_items(text: str) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", re.search(r'<ol class="corrections">(.*?)</ol>', text, re.S).group(1), re.S)


def robots(text: str) -> list[dict]:
    return [t for t in tags(text, "meta") if t.get("name") == "robots"]


# --- the history page ------------------------------------------------------------------------

def test_history_lists_revisions_newest_first_with_date_kind_note_and_who(app, client, content_dir):
    imported(app, content_dir, "tides")
    editor = account(app, "Ed Itor")
    gone = account(app, "Gone Editor", deleted=True)
    revise(app, "tides", UPDATE, "Added the spring tides", "Spring tides [1].", editor, days_ago(3))
    revise(app, "tides", CORRECTION, "The Moon, not the Sun, does most of it", "The Moon pulls [1].", gone, days_ago(2))
    revise(app, "tides", RECHECK, "Checked against the sources again", None, editor, days_ago(1))

    response = get(client, "/q/tides/history")
    assert response.status_code == 200
    page = text_of(response)
    assert "<html" in page and "History of this answer" in page
    found = rows(page)
    assert [r.split()[:2] for r in found] == [["Revision", "4"], ["Revision", "3"], ["Revision", "2"], ["Revision", "1"]]
    assert long_date(days_ago(1).date()) in found[0] and "Re-check" in found[0] and "by Ed Itor" in found[0]
    assert "Checked against the sources again" in found[0]
    assert "Correction" in found[1] and "The Moon, not the Sun, does most of it" in found[1]
    assert "by a former editor" in found[1] and "Gone Editor" not in page  # a deleted account names nobody
    assert "Update" in found[2] and "by Ed Itor" in found[2]
    assert "Imported" in found[3] and "imported from tides.md" in found[3] and long_date(dt.date.today()) in found[3]


def test_history_compares_the_previous_and_the_latest_by_default(app, client, content_dir):
    imported(app, content_dir, "tides")
    for n in range(2):
        revise(app, "tides", summary=f"Version {n} [1].")
    page = text_of(get(client, "/q/tides/history"))
    form = [t for t in tags(page, "form") if t.get("class") == "compare"]
    assert form == [{"method": "get", "action": "/q/tides/history/diff", "class": "compare"}]
    assert (selected(page, "from"), selected(page, "to")) == ("2", "3")


def test_each_revision_but_the_first_links_to_what_changed_since_the_one_before(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", summary="Second [1].")
    revise(app, "tides", summary="Third [1].")
    page = text_of(get(client, "/q/tides/history"))
    changes = [href for href, text in links(page) if text.startswith("What changed")]
    assert changes == [diff_url("tides", 2, 3), diff_url("tides", 1, 2)]
    for href in changes:
        assert get(client, href).status_code == 200


def test_history_as_an_htmx_fragment_is_only_the_list(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", summary="Second [1].")
    response = get(client, "/q/tides/history", fragment=True)
    assert response.status_code == 200
    fragment = text_of(response)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="revision-list"')
    assert len(rows(fragment)) == 2
    assert "HX-Request" in response.headers["Vary"]


def test_a_question_with_no_revisions_says_so(app, client, content_dir):
    write(content_dir, "tides.md", answer("tides", "What makes the tides?", related=["Why is the sea salty?"]))
    import_files(app, content_dir)  # "Why is the sea salty?" exists, unanswered, with no revision
    response = get(client, "/q/why-is-the-sea-salty/history")
    assert response.status_code == 200
    assert "No revisions of this answer have been kept yet." in text_of(response)
    assert "<form" not in text_of(get(client, "/q/why-is-the-sea-salty/history", fragment=True))


@pytest.mark.parametrize("url", ["/q/no-such-question/history", diff_url("no-such-question", 1, 2)])
def test_history_and_diff_of_an_unknown_question_are_404(app, client, url):
    response = get(client, url)
    assert response.status_code == 404
    assert "We have no question at this address." in text_of(response)


def test_history_and_diff_pages_are_not_indexed_but_corrections_is(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", CORRECTION, summary="Fixed [1].")
    for url in ("/q/tides/history", diff_url("tides", 1, 2)):
        assert robots(text_of(get(client, url))) == [NOINDEX], url
    assert robots(text_of(get(client, "/corrections"))) == []


# --- differences -------------------------------------------------------------------------------

def test_a_diff_marks_removed_and_added_words_with_both_revisions_above(app, client, content_dir):
    imported(app, content_dir, "tides")
    editor = account(app, "Ed Itor")
    revise(app, "tides", CORRECTION, "The Moon does most of it", "The Moon pulls the sea twice a day [1].", editor)
    response = get(client, diff_url("tides", 1, 2))
    assert response.status_code == 200
    page = text_of(response)
    body = diff_body(page)
    # Word by word: the removed words, and the added ones, each in their own marks.
    assert " ".join(re.findall(r"<del>(.*?)</del>", body, re.S)) == "summary of tides"
    assert " ".join(re.findall(r"<ins>(.*?)</ins>", body, re.S)) == "Moon pulls the sea twice a day"
    assert "\nThe <del>summary</del>" in body and " [1].\n\n## A section\nThe body of tides [1]." in body
    assert "question: What about tides?" in body  # the unchanged rest, as it was
    compared = re.findall(r"<h3>(From|To) revision (\d+)</h3>", page)
    assert compared == [("From", "1"), ("To", "2")]
    assert "imported from tides.md" in page and "The Moon does most of it" in page and "by Ed Itor" in page


def test_a_diff_escapes_html_written_in_an_answer_and_its_note(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", CORRECTION, "Removed <b>bold</b> claims",
           'The sea <script>alert("x")</script> <img src=x onerror=alert(1)> rises [1].')
    page = text_of(get(client, diff_url("tides", 1, 2)))
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    body = diff_body(page)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body or "&lt;script&gt;alert(&quot;x&quot;)" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "Removed &lt;b&gt;bold&lt;/b&gt; claims" in page


def test_a_diff_can_run_backwards(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", summary="Newer words [1].")
    body = diff_body(text_of(get(client, diff_url("tides", 2, 1))))
    assert " ".join(re.findall(r"<del>(.*?)</del>", body)) == "Newer words"
    assert " ".join(re.findall(r"<ins>(.*?)</ins>", body)) == "The summary of tides"


def test_a_revision_compared_with_itself_says_nothing_changed(app, client, content_dir):
    imported(app, content_dir, "tides")
    page = text_of(get(client, diff_url("tides", 1, 1)))
    assert "These are the same revision: nothing changed." in page
    assert '<pre class="diff">' not in page


def test_two_revisions_with_the_same_text_say_nothing_changed(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", RECHECK, "Looked again: still right")  # no change to the text
    page = text_of(get(client, diff_url("tides", 1, 2)))
    assert "The answer's text is the same in both revisions: nothing changed." in page


def test_a_diff_as_an_htmx_fragment(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", summary="Changed [1].")
    response = get(client, diff_url("tides", 1, 2), fragment=True)
    assert response.status_code == 200
    assert "<html" not in text_of(response) and "<ins>Changed</ins>" in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query, status", [
    ("", 400), ("from=1", 400), ("to=2", 400), ("from=&to=2", 400),
    ("from=one&to=2", 400), ("from=1.5&to=2", 400), ("from=1e1&to=2", 400), ("from=%201%20x&to=2", 400),
    ("from=%EF%BC%91&to=2", 400),  # a full-width digit one: not a number here
    ("from=0&to=2", 404), ("from=-1&to=2", 404), ("from=1&to=3", 404), ("from=99&to=1", 404),
    ("from=1&to=2147483648", 404), ("from=1&to=" + "9" * 30, 404), ("from=1&to=" + "9" * 5000, 404),
])
def test_bad_or_missing_revision_numbers_are_a_clear_4xx(app, client, content_dir, query, status):
    imported(app, content_dir, "tides")
    revise(app, "tides", summary="Changed [1].")
    for fragment in (False, True):
        response = get(client, f"/q/tides/history/diff?{query}", fragment=fragment)
        assert response.status_code == status, query
        if status == 404:
            assert "This answer has no revision" in text_of(response)


# --- corrections across the site -----------------------------------------------------------

def test_corrections_lists_only_corrections_newest_first(app, client, content_dir):
    imported(app, content_dir, "tides", "rainbows", "thunder")
    revise(app, "tides", CORRECTION, "Tides: wrong planet", "Moon [1].", when=days_ago(5))
    revise(app, "rainbows", UPDATE, "Rainbows: more detail", "More [1].", when=days_ago(4))
    revise(app, "thunder", CORRECTION, "Thunder: wrong speed", "Slower [1].", when=days_ago(3))
    revise(app, "tides", RECHECK, "Tides: re-checked", when=days_ago(2))
    revise(app, "tides", CORRECTION, "Tides: wrong month", "Month [1].", when=days_ago(1))

    response = get(client, "/corrections")
    assert response.status_code == 200
    items = correction_items(text_of(response))
    notes = [re.search(r'<p class="revision-note">(.*?)</p>', item).group(1) for item in items]
    assert notes == ["Tides: wrong month", "Thunder: wrong speed", "Tides: wrong planet"]
    assert [links(item) for item in items] == [
        [("/q/tides", "What about tides?"), (diff_url("tides", 3, 4), "What changed in “What about tides?”")],
        [("/q/thunder", "What about thunder?"), (diff_url("thunder", 1, 2), "What changed in “What about thunder?”")],
        [("/q/tides", "What about tides?"), (diff_url("tides", 1, 2), "What changed in “What about tides?”")],
    ]
    assert f"Corrected on <time datetime=\"{days_ago(1):%Y-%m-%d}T12:00Z\">{long_date(days_ago(1).date())}</time>" in items[0]
    for href, _ in links(items[0]):
        assert get(client, href).status_code == 200


def test_corrections_are_paged(app, client, content_dir):
    app.config["PAGE_SIZE"] = 2
    imported(app, content_dir, "tides")
    for n in range(5):
        revise(app, "tides", CORRECTION, f"Correction {n}", f"Text {n} [1].", when=days_ago(10 - n))
    first = text_of(get(client, "/corrections"))
    assert "5 corrections, page 1 of 3" in first
    assert re.findall(r"Correction (\d)", first) == ["4", "3"]
    assert ("/corrections?page=2", "Older →") in links(first)
    last = get(client, "/corrections?page=3", fragment=True)
    assert last.status_code == 200 and "<html" not in text_of(last)
    assert re.findall(r"Correction (\d)", text_of(last)) == ["0"]
    assert ("/corrections?page=2", "← Newer") in links(text_of(last))
    assert get(client, "/corrections?page=4").status_code == 404
    assert get(client, "/corrections?page=two").status_code == 400


def test_corrections_as_an_htmx_fragment(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", CORRECTION, "Fixed it", "Fixed [1].")
    response = get(client, "/corrections", fragment=True)
    assert response.status_code == 200
    fragment = text_of(response)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="correction-list"')
    assert "Fixed it" in fragment and "HX-Request" in response.headers["Vary"]


def test_no_corrections_says_so(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", UPDATE, "Only an update", "New [1].")
    page = text_of(get(client, "/corrections"))
    assert "No corrections yet." in page and "Only an update" not in page


def test_a_first_revision_that_is_a_correction_links_to_the_history(app, client, content_dir):
    imported(app, content_dir, "tides")
    with app.app_context():  # as if imported before revisions were kept
        db.session.execute(delete(Revision))
        db.session.commit()
    revise(app, "tides", CORRECTION, "Corrected before anything was kept", "Fixed [1].")
    items = correction_items(text_of(get(client, "/corrections")))
    assert links(items[0])[1] == ("/q/tides/history", "History of “What about tides?”")


def test_every_page_links_to_corrections_in_its_footer(app, client):
    for url in ("/", "/about", "/corrections"):
        footer = text_of(get(client, url)).split('<footer class="site-footer')[1]
        assert ("/corrections", "Corrections") in links(footer)


# --- the answer page ----------------------------------------------------------------------

def test_every_answered_page_links_to_its_history(demo, client):
    with demo.app_context():
        slugs = db.session.scalars(select(Question.slug).where(Question.status == "answered")).all()
    assert len(slugs) > 5
    for slug in slugs:
        page = text_of(get(client, f"/q/{slug}"))
        assert (f"/q/{slug}/history", "History of this answer") in links(page), slug
        assert get(client, f"/q/{slug}/history").status_code == 200


@pytest.mark.parametrize("ago, shown", [(0, True), (1, True), (30, True), (31, False), (400, False)])
def test_corrected_on_shows_beside_checked_on_for_thirty_days(app, client, content_dir, ago, shown):
    imported(app, content_dir, "tides")
    revise(app, "tides", CORRECTION, "Fixed", "Fixed [1].", when=days_ago(ago))
    page = text_of(get(client, "/q/tides"))
    checked = re.search(r'<p class="checked">(.*?)</p>', page, re.S).group(1)
    day = days_ago(ago).date()
    assert (f'<a href="/q/tides/history" class="corrected">{CORRECTED} <time datetime="{day}">{long_date(day)}</time></a>'
            in checked) is shown
    assert (CORRECTED in page) is shown


def test_an_update_or_a_recheck_is_not_a_correction(app, client, content_dir):
    imported(app, content_dir, "tides")
    revise(app, "tides", UPDATE, "More", "More [1].")
    revise(app, "tides", RECHECK, "Again")
    assert CORRECTED not in text_of(get(client, "/q/tides"))


def test_the_days_are_a_setting(app, client, content_dir, monkeypatch):
    monkeypatch.setenv("CORRECTED_RECENTLY_DAYS", "7")
    assert from_environment()["CORRECTED_RECENTLY_DAYS"] == 7
    monkeypatch.delenv("CORRECTED_RECENTLY_DAYS")
    assert from_environment()["CORRECTED_RECENTLY_DAYS"] == 30
    app.config["CORRECTED_RECENTLY_DAYS"] = 7
    imported(app, content_dir, "tides")
    revise(app, "tides", CORRECTION, "Fixed", "Fixed [1].", when=days_ago(10))
    assert CORRECTED not in text_of(get(client, "/q/tides"))


def _later(monkeypatch, days: int) -> None:
    """The answer page's today, `days` days on (how `outdated` and `Corrected on` read the date)."""
    later = dt.date.today() + dt.timedelta(days=days)

    class Later(dt.date):
        @classmethod
        def today(cls):
            return later

    monkeypatch.setattr(bodies, "dt", types.SimpleNamespace(date=Later, timedelta=dt.timedelta))


def test_the_cached_answer_drops_the_note_when_the_days_are_over(app, client, content_dir, monkeypatch):
    imported(app, content_dir, "tides")
    revise(app, "tides", CORRECTION, "Fixed", "Fixed [1].")
    with app.app_context():
        version = current_version(db.session)
        engine = db.engine
    reads: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if re.search(r"\bFROM section\b", statement):
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert CORRECTED in text_of(get(client, "/q/tides"))  # rendered, and kept
        reads.clear()
        assert CORRECTED in text_of(get(client, "/q/tides"))
        assert reads == []  # from the cache: the body is kept, note and all

        _later(monkeypatch, 30)
        assert CORRECTED in text_of(get(client, "/q/tides"))
        _later(monkeypatch, 31)
        page = text_of(get(client, "/q/tides"))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert CORRECTED not in page and "History of this answer" in page
    with app.app_context():
        assert current_version(db.session) == version  # no content changed: the date alone did it


def test_a_new_correction_shows_at_once_though_the_body_was_cached(app, client, content_dir):
    imported(app, content_dir, "tides")
    assert CORRECTED not in text_of(get(client, "/q/tides"))
    revise(app, "tides", CORRECTION, "Fixed", "Fixed [1].")
    assert CORRECTED in text_of(get(client, "/q/tides"))


# --- revisions made by `flask content import` ------------------------------------------------

def test_each_import_that_changes_a_file_is_a_revision_in_the_history(app, client, runner, content_dir):
    write(content_dir, "tides.md", answer("tides", "What makes the tides?"))
    assert runner.invoke(args=["content", "import", str(content_dir)]).exit_code == 0
    write(content_dir, "tides.md", answer("tides", "What makes the tides?").replace(
        "The summary of tides [1].", "The Moon's pull makes the tides [1]."))
    assert runner.invoke(args=["content", "import", str(content_dir)]).exit_code == 0
    found = rows(text_of(get(client, "/q/tides/history")))
    assert len(found) == 2 and all("imported from tides.md" in r and "Imported" in r for r in found)
    body = diff_body(text_of(get(client, diff_url("tides", 1, 2))))
    assert "<ins>" in body and "pull" in body and "<del>" in body
    with app.app_context():
        assert db.session.scalar(select(Revision.kind).where(Revision.number == 2)) == UPDATE
