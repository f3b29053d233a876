"""The desk's home (/desk): editors only; its five sections as a page and as htmx
fragments, each listing the right items in the right order, each item one click from
its editing page; empty states; the lists kept for a while, never past an edit."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.pages import HTMX, links, part, text_of
from tests.readers import sign_in
from webapp.accounts.models import User
from webapp.answers.models import ANSWERED, UNANSWERED, Question, RelatedLink
from webapp.desk import home
from webapp.extensions import db
from webapp.graph.models import AnswerRequest, DailySignal
from webapp.reports.models import ACCEPTED, DECLINED, FIXED, NEW, Report
from webapp.search.models import SearchGap

SECTIONS = home.SECTIONS
URLS = ["/desk/", *(f"/desk/sections/{name}" for name in SECTIONS)]
TODAY = dt.date.today()
LONG_AGO = TODAY - dt.timedelta(days=800)  # stale by any threshold of a year or two
RECENTLY = TODAY - dt.timedelta(days=10)  # fresh


def editor(app, client) -> int:
    user_id = sign_in(app, client, "editor@example.org", "Ed Itor")
    with app.app_context():
        db.session.get(User, user_id).is_editor = True
        db.session.commit()
    return user_id


def add_question(slug: str, text: str | None = None, answered: bool = True, checked_on: dt.date | None = RECENTLY) -> int:
    question = Question(slug=slug, text=text or f"Question {slug}?", text_key=(text or slug).lower(),
                        status=ANSWERED if answered else UNANSWERED, checked_on=checked_on if answered else None)
    db.session.add(question)
    db.session.flush()
    return question.id


def link(from_id: int, to_id: int) -> None:
    db.session.add(RelatedLink(from_id=from_id, to_id=to_id, position=1))


def views(question_id: int, count: int, days_ago: int = 1) -> None:
    db.session.add(DailySignal(day=TODAY - dt.timedelta(days=days_ago), kind="view", question_id=question_id,
                               count=count))


def request(question_id: int, n: int) -> None:
    for i in range(n):
        db.session.add(AnswerRequest(question_id=question_id, requester=f"browser:{question_id}:{i}"))


def section_of(page: str, name: str) -> str:
    return part(page, f'<section id="desk-{name}"')


def item_links(section: str) -> list[tuple[str, str]]:
    """(href, text) of each listed item's main link, in order."""
    items = re.findall(r'<a class="desk-item" href="([^"]*)">(.*?)</a>', section, re.S)
    return [(href.replace("&amp;", "&"), text.strip()) for href, text in items]


def count_of(section: str) -> str:
    return re.search(r'<span class="desk-count">(.*?)</span>', section, re.S).group(1).strip()


def desk_page(client, url: str = "/desk/") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return text_of(response)


# --- who may see it -------------------------------------------------------------------------

@pytest.mark.parametrize("url", URLS)
def test_a_visitor_is_sent_to_log_in_and_back(app, client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={url}"
    fragment = client.get(url, headers=HTMX)  # htmx would swap a login page into a section: it navigates
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == f"/login?next={url}"


def test_desk_without_its_slash_leads_to_the_same_place(app, client):
    assert client.get("/desk").headers["Location"].endswith("/desk/")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx"])
def test_a_reader_gets_403(app, client, url, fragment):
    sign_in(app, client)
    response = client.get(url, headers=HTMX if fragment else {})
    assert response.status_code == 403
    assert "Reports waiting" not in text_of(response)


# --- the page and its fragments ---------------------------------------------------------------

def test_an_editor_gets_every_section_as_a_page_and_as_a_fragment(app, client):
    editor(app, client)
    page = client.get("/desk/")
    assert page.status_code == 200 and "<html" in text_of(page)
    assert "Vary" in page.headers and "HX-Request" in page.headers["Vary"]
    fragment = client.get("/desk/", headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in text_of(fragment)
    for body in (text_of(page), text_of(fragment)):
        for name in SECTIONS:
            assert f'<section id="desk-{name}"' in body
        assert re.findall(r'<h2 id="desk-([a-z]+)-title">', body) == list(SECTIONS)


@pytest.mark.parametrize("name", SECTIONS)
def test_each_section_is_its_own_fragment_and_page(app, client, name):
    editor(app, client)
    fragment = text_of(client.get(f"/desk/sections/{name}", headers=HTMX))
    assert fragment.strip().startswith(f'<section id="desk-{name}"') and "<html" not in fragment
    assert fragment.count("<section") == 1
    page = desk_page(client, f"/desk/sections/{name}")  # the same address works without JavaScript
    assert "<html" in page and page.count('class="desk-section"') == 1
    assert ("/desk/", "The whole desk") in links(page)
    # Its "Refresh" is a real link to itself, which htmx swaps in place.
    refresh = re.search(r'<a class="desk-refresh"[^>]*>', fragment).group(0)
    assert f'href="/desk/sections/{name}"' in refresh and f'hx-get="/desk/sections/{name}"' in refresh
    assert f'hx-target="#desk-{name}"' in refresh and 'hx-swap="outerHTML"' in refresh


def test_an_unknown_section_is_404(app, client):
    editor(app, client)
    assert client.get("/desk/sections/everything").status_code == 404


# --- each section -------------------------------------------------------------------------------

def test_reports_waiting_are_the_new_ones_newest_first_each_opening_its_editor(app, client):
    editor(app, client)
    now = dt.datetime.now().replace(microsecond=0)
    with app.app_context():
        answered = add_question("salt-water", "Does salt water boil faster?")
        waiting = add_question("ostrich-speed", "How fast can an ostrich run?", answered=False)
        for hours, state, what, source in [
            (5, NEW, "The second source is from 1990.", "https://example.org/newer"),
            (1, NEW, "It boils slower, not faster.", None),
            (3, NEW, "Why not cite the handbook?", "javascript:alert(1)"),
            (0, ACCEPTED, "Decided already", None),
            (0, DECLINED, "Decided already", None),
            (0, FIXED, "Decided already", None),
        ]:
            question_id = waiting if "handbook" in what else answered
            db.session.add(Report(question_id=question_id, what=what, source_url=source, state=state,
                                  created_at=now - dt.timedelta(hours=hours)))
        db.session.add(Report(question_id=answered, what="x" * 500, state=NEW,
                              created_at=now - dt.timedelta(days=2)))
        db.session.commit()
    section = section_of(desk_page(client), "reports")
    assert count_of(section) == "4"
    assert item_links(section) == [
        ("/desk/q/salt-water/edit", "Does salt water boil faster?"),
        ("/desk/new?question=ostrich-speed", "How fast can an ostrich run?"),  # not answered: a new answer
        ("/desk/q/salt-water/edit", "Does salt water boil faster?"),
        ("/desk/q/salt-water/edit", "Does salt water boil faster?"),
    ]
    assert section.index("It boils slower") < section.index("handbook") < section.index("from 1990")
    assert "Decided already" not in section
    assert "x" * home.EXCERPT not in section and "x" * (home.EXCERPT - 1) + "…" in section  # shortened
    assert ("https://example.org/newer", "https://example.org/newer") in links(section)
    assert "javascript:" not in section  # a reader's address is linked only if it is a web address


def test_most_requested_are_unanswered_most_requests_first(app, client):
    editor(app, client)
    with app.app_context():
        for slug, text, n in [("few", "Few?", 1), ("many", "Many?", 5), ("tie-b", "Bb tie?", 3),
                              ("tie-a", "Aa tie?", 3), ("none", "None?", 0)]:
            request(add_question(slug, text, answered=False), n)
        request(add_question("answered-already", "Answered already?"), 9)  # requests stay after an answer
        db.session.commit()
    section = section_of(desk_page(client), "requests")
    assert count_of(section) == "4"
    assert item_links(section) == [("/desk/new?question=many", "Many?"), ("/desk/new?question=tie-a", "Aa tie?"),
                                   ("/desk/new?question=tie-b", "Bb tie?"), ("/desk/new?question=few", "Few?")]
    assert "5 requests" in section and "1 request<" in section
    assert ("/requests", "All requested questions") in links(section)


def test_stale_answers_most_read_first_then_the_oldest_checked(app, client):
    editor(app, client)
    months = app.config["OUTDATED_AFTER_MONTHS"]
    with app.app_context():
        read_little = add_question("read-little", checked_on=LONG_AGO)
        views(read_little, 2)
        read_most = add_question("read-most", checked_on=LONG_AGO + dt.timedelta(days=100))
        views(read_most, 30, days_ago=1)
        views(read_most, 20, days_ago=29)  # both inside the 30 days: 50
        read_long_ago = add_question("read-long-ago", checked_on=LONG_AGO + dt.timedelta(days=50))
        views(read_long_ago, 999, days_ago=45)  # outside the window: counts as not read
        add_question("oldest", checked_on=LONG_AGO - dt.timedelta(days=300))
        fresh = add_question("fresh", checked_on=RECENTLY)
        views(fresh, 500)
        add_question("never-answered", answered=False)
        db.session.commit()
    section = section_of(desk_page(client), "stale")
    assert count_of(section) == "4"
    assert [href for href, _ in item_links(section)] == [
        "/desk/q/read-most/edit", "/desk/q/read-little/edit", "/desk/q/oldest/edit", "/desk/q/read-long-ago/edit"]
    assert "50 views in 30 days" in section and "2 views in 30 days" in section and "not read in 30 days" in section
    cutoff = home.stale_cutoff(TODAY, months)
    more = [href for href, text in links(section) if text == "Every stale answer, in search"]
    assert more == [f"/search?q=is:answered+checked:1900..{cutoff - dt.timedelta(days=1)}"]


def test_an_answer_checked_on_the_threshold_day_is_not_stale(app, client):
    editor(app, client)
    cutoff = home.stale_cutoff(TODAY, app.config["OUTDATED_AFTER_MONTHS"])
    with app.app_context():
        add_question("on-the-day", checked_on=cutoff)
        add_question("the-day-before", checked_on=cutoff - dt.timedelta(days=1))
        db.session.commit()
    assert item_links(section_of(desk_page(client), "stale")) == [("/desk/q/the-day-before/edit", "Question the-day-before?")]


def test_searches_that_found_nothing_met_by_enough_readers_most_first(app, client):
    editor(app, client)
    app.config["GAP_MIN_READERS"] = 3
    seen = dt.datetime(2026, 1, 5, 12)
    with app.app_context():
        for query, count in [("quokka shoes", 4), ("hovercraft eels", 12), ("lone search", 2), ("banjo tides", 3)]:
            db.session.add(SearchGap(query=query, count=count, first_seen=seen, last_seen=seen))
        db.session.commit()
    section = section_of(desk_page(client), "gaps")
    assert count_of(section) == "3"
    assert [text for _, text in item_links(section)] == ["hovercraft eels", "quokka shoes", "banjo tides"]
    # A new answer for what was sought, starting from the words readers used.
    assert [href for href, _ in item_links(section)] == ["/desk/new?text=hovercraft+eels",
                                                          "/desk/new?text=quokka+shoes", "/desk/new?text=banjo+tides"]
    assert ("/search?q=hovercraft+eels", "search it") in links(section)
    assert "12 readers, last 5 January 2026" in section
    assert ("/search/gaps", "All content gaps") in links(section)


def test_orphans_are_answers_nothing_links_to_newest_first(app, client):
    editor(app, client)
    with app.app_context():
        old_orphan = add_question("old-orphan")
        hub = add_question("hub")
        linked = add_question("linked")
        unanswered = add_question("unanswered", answered=False)
        new_orphan = add_question("new-orphan")
        link(hub, linked)
        link(old_orphan, hub)  # linking out does not stop an answer being an orphan
        link(new_orphan, unanswered)
        db.session.commit()
    section = section_of(desk_page(client), "orphans")
    assert count_of(section) == "2"
    assert [href for href, _ in item_links(section)] == ["/desk/q/new-orphan/edit", "/desk/q/old-orphan/edit"]
    assert ("/explore/orphans", "All orphans") in links(section)


def test_the_reports_section_links_to_the_queue_when_there_is_one(app, client):
    editor(app, client)
    section = section_of(desk_page(client), "reports")
    queue = [href for href, text in links(section) if text == "All reports, in the queue"]
    assert queue == (["/desk/reports"] if "reports.queue" in app.view_functions else [])


def test_every_section_says_when_it_has_nothing(app, client):
    editor(app, client)
    page = desk_page(client)
    cutoff = home.stale_cutoff(TODAY, app.config["OUTDATED_AFTER_MONTHS"])
    expected = {
        "reports": "No reports are waiting. What readers report on an answer arrives here.",
        "asks": "No reader’s question is waiting. What readers ask arrives here before it goes on the site.",
        "requests": "No question waiting for an answer has been requested yet.",
        "stale": f"Nothing is stale: every answer was checked on or after {cutoff.day} {cutoff:%B %Y}.",
        "gaps": f"No search has found nothing for {app.config['GAP_MIN_READERS']} readers yet.",
        "orphans": "No orphans: every answer is linked from another question.",
    }
    for name, sentence in expected.items():
        section = section_of(page, name)
        assert count_of(section) == "0"
        assert f'<p class="desk-empty">{sentence}</p>' in section
        assert "<ol" not in section


def test_long_lists_show_the_first_ten_and_counts_stop_at_the_cap(app, client, monkeypatch):
    editor(app, client)
    monkeypatch.setattr(home, "COUNT_CAP", 12)
    with app.app_context():
        for i in range(15):
            add_question(f"stale-{i:02}", checked_on=LONG_AGO + dt.timedelta(days=i))
        for i in range(11):
            add_question(f"requested-{i:02}", answered=False)
            request(db.session.scalar(db.select(Question.id).where(Question.slug == f"requested-{i:02}")), 1)
        db.session.commit()
    page = desk_page(client)
    stale = section_of(page, "stale")
    assert count_of(stale) == "more than 12"
    assert [href for href, _ in item_links(stale)] == [f"/desk/q/stale-{i:02}/edit" for i in range(10)]
    requested = section_of(page, "requests")
    assert count_of(requested) == "11" and len(item_links(requested)) == 10


def test_the_desk_never_ranks_the_whole_graph(app, client, monkeypatch):
    from webapp.graph import ranking

    def refuse(*args, **kwargs):
        raise AssertionError("the desk ranked the whole graph")

    monkeypatch.setattr(ranking, "compute", refuse)
    editor(app, client)
    with app.app_context():
        add_question("an-orphan")
        db.session.commit()
    assert item_links(section_of(desk_page(client), "orphans")) == [("/desk/q/an-orphan/edit", "Question an-orphan?")]


# --- kept for a while, never past an edit ------------------------------------------------------

def test_kept_lists_change_with_the_content_and_reports_are_never_kept(app, client):
    app.config["ANSWER_SHARED_SECONDS"] = 60  # as in production (tests set 0)
    editor(app, client)
    with app.app_context():
        ostrich = add_question("ostrich", "How fast can an ostrich run?", answered=False)
        request(ostrich, 2)
        request(add_question("kiwi", "Can a kiwi fly?", answered=False), 1)
        db.session.commit()
    requested = [href for href, _ in item_links(section_of(desk_page(client), "requests"))]
    assert requested == ["/desk/new?question=ostrich", "/desk/new?question=kiwi"]
    with app.app_context():
        db.session.add(Report(question_id=ostrich, what="A new report", state=NEW))
        db.session.commit()
    assert "A new report" in section_of(desk_page(client), "reports")  # never kept
    with app.app_context():
        question = db.session.get(Question, ostrich)
        question.status, question.checked_on = ANSWERED, TODAY  # an editor answers it: content changed
        db.session.commit()
    requested = [href for href, _ in item_links(section_of(desk_page(client), "requests"))]
    assert requested == ["/desk/new?question=kiwi"]


def test_an_edit_shows_at_once_without_summing_the_views_again(app, client, monkeypatch):
    app.config["ANSWER_SHARED_SECONDS"] = 60
    editor(app, client)
    with app.app_context():
        for slug, n in [("popular", 9), ("quiet", 1)]:
            views(add_question(slug, checked_on=LONG_AGO), n)
        db.session.commit()
    summed = []
    ranking = home.reading_ranking
    monkeypatch.setattr(home, "reading_ranking", lambda *args: summed.append(args) or ranking(*args))
    assert [href for href, _ in item_links(section_of(desk_page(client), "stale"))] == [
        "/desk/q/popular/edit", "/desk/q/quiet/edit"]
    with app.app_context():
        db.session.scalar(db.select(Question).where(Question.slug == "popular")).checked_on = TODAY  # re-checked
        db.session.commit()
    assert [href for href, _ in item_links(section_of(desk_page(client), "stale"))] == ["/desk/q/quiet/edit"]
    assert len(summed) == 1  # the views were summed once; the edit only looked the answers up again


# --- the lists' shortcuts give what the whole count gives --------------------------------------

def _lists(app, limit, depth):
    with app.app_context():
        return (home.stale_answers(db.session, limit, TODAY, 12, 30, depth=depth),
                home.most_requested(db.session, limit))


def test_looking_among_the_most_read_and_requested_first_changes_nothing(app, monkeypatch):
    with app.app_context():
        # Read and requested the most, but fresh or answered: the first ones looked at are not kept.
        for i in range(4):
            views(add_question(f"fresh-{i}", checked_on=RECENTLY), 100 + i)
            request(add_question(f"done-{i}"), 20 + i)
        for i, n in enumerate([7, 7, 5, 3]):  # a tie at the top
            views(add_question(f"stale-{i}", checked_on=LONG_AGO + dt.timedelta(days=10 - i)), n)
            request(add_question(f"asked-{i}", f"Asked {9 - i}?", answered=False), n)
        add_question("stale-unread", checked_on=LONG_AGO)
        db.session.commit()
    # limit 2, depth 7: settled by the first seven (both 7s are above the seventh's 5);
    # limit 1, depth 5: the fifth is a 7 and so is the sixth: only counting everything tells
    # that the older-checked (and alphabetically first) one comes first.
    for limit, depth in [(3, 5), (3, 1), (2, 7), (1, 5), (6, 2), (6, 8)]:
        assert _lists(app, limit, depth) == _lists(app, limit, 1000), (limit, depth)
    stale, requested = _lists(app, 6, 1000)
    assert [item.slug for item in stale.items] == ["stale-1", "stale-0", "stale-2", "stale-3", "stale-unread"]
    assert [item.views for item in stale.items] == [7, 7, 5, 3, 0]
    assert [item.slug for item in requested.items] == ["asked-1", "asked-0", "asked-2", "asked-3"]
    assert [item.requests for item in requested.items] == [7, 7, 5, 3]

    def refuse(*args):
        raise AssertionError("counted everything")

    monkeypatch.setattr(home, "_stale_read_everything", refuse)
    for limit, depth in [(2, 7), (3, 8), (6, 1000)]:  # settled by the first ones, or they were all
        _lists(app, limit, depth)
