"""Counting that never breaks reading and cannot be gamed (issue 10, findings 8, 12, 13).

Reading figures and the content-gap list count readers: not robots, not a flood of
cookie-less requests, each reader once a day; and a database that cannot be written
costs a count, never a page."""
from __future__ import annotations

import datetime as dt
import logging
import re
import types

import pytest
from sqlalchemy import event, func, select

from tests.pages import form_token, part, result_links, text_of
from tests.readers import PASSWORD, make_user
from webapp import counting
from webapp.extensions import db
from webapp.graph import signals
from webapp.graph.models import DailySignal
from webapp.search.models import SearchGap

SKY = "/q/why-is-the-sky-blue"
GOLDFISH = "/q/goldfish-memory"
OSTRICH = "/q/how-fast-can-an-ostrich-run"  # unanswered
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture(autouse=True)
def fresh_failure_log(monkeypatch):
    counting._failing.clear()  # "logged once per process": each test starts with nothing logged
    # Alembic's fileConfig (a migration test earlier in this process) disables loggers that exist.
    monkeypatch.setattr(counting.log, "disabled", False)
    yield
    counting._failing.clear()


def reader(app, number: int = 1, cookies: bool = True, agent: str = BROWSER):
    """A browser (keeping cookies, or not) at an address of its own."""
    client = app.test_client(use_cookies=cookies)
    client.environ_base.update(REMOTE_ADDR=f"192.0.2.{number}", HTTP_USER_AGENT=agent)
    return client


def views(app, path: str | None = None) -> int:
    with app.app_context():
        query = select(func.coalesce(func.sum(DailySignal.count), 0)).where(DailySignal.kind == "view")
        if path:
            from webapp.answers.models import Question

            query = query.join(Question, Question.id == DailySignal.question_id).where(
                Question.slug == path.rsplit("/", 1)[1])
        return db.session.scalar(query)


def most_read(client) -> list[str]:
    page = text_of(client.get("/"))
    if '<ol class="most-read">' not in page:
        return []
    return re.findall(r'<li><a href="(/q/[^"]+)">', part(page, '<ol class="most-read">', "</ol>"))


def gap_rows(app) -> dict[str, int]:
    with app.app_context():
        return {g.query: g.count for g in db.session.scalars(select(SearchGap))}


def search(client, q: str):
    return client.get("/search", query_string={"q": q})


# --- finding 8: a database that cannot be written ----------------------------------------

def _read_only(dbapi_connection, _record) -> None:
    """What `chattr +i` on the database file does to writes, done by the database itself:
    SQLite answers "attempt to write a readonly database"; PostgreSQL refuses writes in
    a read-only transaction."""
    cursor = dbapi_connection.cursor()
    if "sqlite" in type(dbapi_connection).__module__:
        cursor.execute("PRAGMA query_only = ON")
    else:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        dbapi_connection.commit()
    cursor.close()


@pytest.fixture
def unwritable(demo):
    with demo.app_context():
        engine = db.engine
        event.listen(engine, "connect", _read_only)
        engine.dispose()  # every connection from now on is a new, read-only one
    yield demo
    with demo.app_context():
        event.remove(engine, "connect", _read_only)
        engine.dispose()


def test_pages_and_searches_render_when_counting_cannot_write(unwritable, caplog):
    app = unwritable
    caplog.set_level(logging.ERROR, logger="webapp.counting")
    for number in range(3):  # three readers: each would be counted
        client = reader(app, number)
        answer = client.get(SKY)
        assert answer.status_code == 200 and "Why is the sky blue?" in text_of(answer)
        followed = client.get(GOLDFISH, headers={"Referer": f"http://localhost{SKY}"})  # a view and a follow
        assert followed.status_code == 200
        assert client.get(OSTRICH).status_code == 200  # unanswered: counted as a follow only when followed
        found = search(client, "rayleigh")
        assert found.status_code == 200 and result_links(text_of(found)) == [SKY]
        nothing = search(client, "quantum knitting")  # found nothing: records a gap
        # The page's own session was rolled back: it goes on to list answers and categories.
        assert nothing.status_code == 200
        assert "Recently checked answers" in text_of(nothing) and "Browse by category" in text_of(nothing)
    assert views(app) == 0 and gap_rows(app) == {}
    failures = [r.getMessage() for r in caplog.records if r.name == "webapp.counting"]
    # Once per kind, not once per request (3 readers x 2 views, 3 follows, 3 gaps).
    assert sorted(m.split()[1] for m in failures) == ["follow", "gap", "view"], failures
    assert all("readonly" in m or "read-only" in m for m in failures), failures


def test_counting_is_logged_again_after_it_worked_in_between(demo, caplog):
    caplog.set_level(logging.ERROR, logger="webapp.counting")
    counting.failed("view", RuntimeError("disk full"))
    counting.failed("view", RuntimeError("disk full"))
    reader(demo).get(SKY)  # works: counted
    counting.failed("view", RuntimeError("disk full"))
    assert len([r for r in caplog.records if r.name == "webapp.counting"]) == 2


def test_pages_render_when_the_rate_limit_storage_does_not_answer(demo, monkeypatch, caplog):
    from webapp.extensions import limiter

    def gone(*_args, **_kwargs):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(limiter.limiter, "hit", gone)
    caplog.set_level(logging.ERROR, logger="webapp.counting")
    for number in range(3):
        assert reader(demo, number).get(SKY).status_code == 200
        assert search(reader(demo, number), "quantum knitting").status_code == 200
    assert views(demo) == 0 and gap_rows(demo) == {}
    assert len([r for r in caplog.records if r.name == "webapp.counting"]) == 1


# --- finding 12: what counts as a reader -------------------------------------------------

def test_cookie_less_requests_count_once_and_do_not_make_an_answer_most_read(demo):
    for number in (1, 2):  # two readers read the goldfish answer
        reader(demo, number).get(GOLDFISH)
    flood = reader(demo, 9, cookies=False)
    for _ in range(30):
        assert flood.get(SKY).status_code == 200
    assert views(demo, SKY) == 1  # a first visit from that address, once
    assert most_read(reader(demo, 20)) == [GOLDFISH, SKY]


def test_a_reader_who_keeps_cookies_counts_once_a_day(demo, monkeypatch):
    client = reader(demo)
    for _ in range(3):
        client.get(SKY)  # reloads, Back
    client.get(GOLDFISH)
    client.get(SKY)
    assert views(demo, SKY) == 1 and views(demo, GOLDFISH) == 1

    tomorrow = dt.date.today() + dt.timedelta(days=1)

    class Tomorrow(dt.date):
        @classmethod
        def today(cls):
            return tomorrow

    monkeypatch.setattr(signals, "dt", types.SimpleNamespace(date=Tomorrow, timedelta=dt.timedelta))
    client.get(SKY)
    client.get(SKY)
    assert views(demo, SKY) == 2  # once more, the next day


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "python-httpx/0.27.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
    "",
])
def test_robots_never_count(demo, agent):
    for cookies in (True, False):
        client = reader(demo, 5, cookies=cookies, agent=agent)
        assert client.get(SKY).status_code == 200
        client.get(GOLDFISH, headers={"Referer": f"http://localhost{SKY}"})
    assert views(demo) == 0
    assert most_read(reader(demo, 20)) == []


def test_a_replayed_cookie_counts_no_more_than_an_address_may(demo):
    demo.config["COUNT_PER_ADDRESS"] = "4 per day"
    client = reader(demo)
    client.get("/q/goldfish-memory")
    kept = client.get_cookie("session").value  # a memory that does not hold the sky answer
    for _ in range(10):
        client.set_cookie("session", kept)
        client.get(SKY)
    assert views(demo, SKY) == 4


def test_no_address_and_no_reader_reaches_the_database(demo):
    reader(demo, 7, cookies=False).get(SKY)
    search(reader(demo, 7), "quantum knitting")
    assert {c.name for c in DailySignal.__table__.columns} == {"id", "day", "kind", "question_id", "from_id", "count"}
    assert {c.name for c in SearchGap.__table__.columns} == {"id", "query", "count", "first_seen", "last_seen"}
    with demo.app_context():
        stored = [str(v) for row in db.session.execute(select(DailySignal.__table__)) for v in row]
        stored += [str(v) for row in db.session.execute(select(SearchGap.__table__)) for v in row]
    assert not any("192.0.2" in value for value in stored)


# --- finding 13: the gap list counts readers -----------------------------------------------

@pytest.fixture
def editor(demo):
    """An editor's browser, logged in."""
    make_user(demo, "editor@example.org", "Ed Itor", editor=True)
    client = demo.test_client()
    page = text_of(client.get("/login"))
    token = form_token(page)
    client.post("/login", data={"email": "editor@example.org", "password": PASSWORD, "csrf_token": token})
    return client


def editors_gaps(editor) -> str:
    response = editor.get("/search/gaps")
    assert response.status_code == 200, response.status_code
    return part(text_of(response), "<h1>Content gaps</h1>", "</main>")


NONSENSE = ["zqxv blorp", "flurb quax", "grimble wup", "snarf plonk", "vorp zint", "quib fazzle", "mungo trel",
            "plib zorf", "yarp glim", "wozzle frint"]


def test_ten_nonsense_searches_from_one_address_leave_the_editors_list_empty(demo, editor):
    demo.config["GAP_LIMIT"] = "4 per hour"
    spammer = reader(demo, 9, cookies=False)
    for q in NONSENSE:
        assert search(spammer, q).status_code == 200
    assert len(gap_rows(demo)) == 4  # the address's allowance
    assert all(count == 1 for count in gap_rows(demo).values())
    listed = editors_gaps(editor)
    assert not any(q in listed for q in NONSENSE)
    assert "No search has found nothing for 3 readers yet" in listed


def test_a_reader_repeating_a_search_counts_once(demo):
    client = reader(demo)
    for _ in range(5):
        search(client, "quantum knitting")
    cookieless = reader(demo, 9, cookies=False)
    for _ in range(5):
        search(cookieless, "quantum knitting")
    assert gap_rows(demo) == {"quantum knitting": 2}


def test_a_gap_met_by_three_readers_is_shown_to_editors(demo, editor):
    for number in (1, 2):
        search(reader(demo, number), "Quantum  Knitting")
    assert "quantum knitting" not in editors_gaps(editor)
    search(reader(demo, 3, cookies=False), "quantum knitting")  # a first visit counts
    listed = editors_gaps(editor)
    assert "quantum knitting" in listed
    assert re.search(r"quantum knitting</a></td><td>3<", listed)


def test_robots_record_no_gaps(demo):
    for number, agent in enumerate(["Googlebot/2.1", "curl/8.5.0", "python-requests/2.32.3"]):
        search(reader(demo, number, agent=agent), "quantum knitting")
    assert gap_rows(demo) == {}
