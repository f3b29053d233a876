"""Engagement signals: counted per day without readers, once per reader, and put to use."""
import datetime as dt
import re
import types

import pytest
from sqlalchemy import func, select

from tests.pages import HTMX, part, text_of
from webapp.extensions import db
from webapp.graph import signals
from webapp.graph.models import DailySignal

SKY = "/q/why-is-the-sky-blue"
GOLDFISH = "/q/goldfish-memory"


def counted(app, kind: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(DailySignal.count), 0)).where(DailySignal.kind == kind))


def reader(app, number: int):
    """A reader in a browser of their own (it keeps cookies), from an address of their own:
    readers who share an address and come without a cookie count once (tests/test_counting.py)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
    return client


def follow(client, source: str, target: str, host: str = "localhost"):
    client.get(source)
    return client.get(target, headers={"Referer": f"http://{host}{source}"})


def test_a_view_is_counted_once_per_reader_per_day(demo, client, app):
    client.get(SKY)
    client.get(SKY)  # a reload
    reader(app, 2).get(SKY)  # another reader
    assert counted(demo, "view") == 2


def test_the_table_holds_no_reader_and_no_address(demo):
    assert {c.name for c in DailySignal.__table__.columns} == {"id", "day", "kind", "question_id", "from_id", "count"}


def test_follows_count_only_from_this_site_and_show_once_enough_readers_follow(demo, app):
    for number in range(2):
        follow(reader(app, number), SKY, GOLDFISH)
    follow(reader(app, 2), SKY, GOLDFISH, host="evil.example")  # not a follow from our page
    assert counted(demo, "follow") == 2
    assert "went on to read" not in text_of(app.test_client().get(SKY))
    follow(reader(app, 3), SKY, GOLDFISH)  # the third reader: the threshold
    page = text_of(app.test_client().get(SKY))
    went_on = part(page, '<section class="went-on"')
    assert "Do goldfish have a three-second memory?" in went_on


def test_most_read_this_week_on_the_home_page(demo, app):
    for number in range(3):
        reader(app, number).get(GOLDFISH)
    reader(app, 4).get(SKY)
    page = text_of(app.test_client().get("/"))
    listed = re.findall(r'<li><a href="(/q/[^"]+)">', part(page, '<ol class="most-read">', "</ol>"))
    assert listed[:2] == [GOLDFISH, SKY]


# --- day windows: the clock moved where signals read the date ---------------------------------

TODAY = dt.date.today()


@pytest.fixture
def clock(monkeypatch):
    """Sets the day that counting and the reading figures take as today."""
    def set_day(day: dt.date) -> None:
        fixed = type("FixedDate", (dt.date,), {"today": classmethod(lambda cls: day)})
        monkeypatch.setattr(signals, "dt", types.SimpleNamespace(date=fixed, timedelta=dt.timedelta))
    return set_day


def most_read(app) -> list[str]:
    page = text_of(app.test_client().get("/"))
    if '<ol class="most-read">' not in page:
        return []
    return re.findall(r'<li><a href="(/q/[^"]+)">', part(page, '<ol class="most-read">', "</ol>"))


def test_most_read_this_week_counts_the_last_seven_days_only(demo, app, clock):
    clock(TODAY - dt.timedelta(days=7))  # a week ago: outside "this week"
    for number in range(3):
        reader(app, number).get(GOLDFISH)
    clock(TODAY - dt.timedelta(days=6))  # the oldest day inside it
    reader(app, 10).get(SKY)
    clock(TODAY)
    assert counted(demo, "view") == 4
    assert most_read(demo) == [SKY]  # three readers a week ago count for nothing
    clock(TODAY + dt.timedelta(days=1))  # tomorrow the sky's day has left the week too
    assert most_read(demo) == []


def test_went_on_to_read_counts_readers_over_the_days(demo, app, clock):
    first, second = reader(app, 1), reader(app, 2)
    for days_ago, who in ((30, first), (30, first), (1, second)):  # the same reader twice a day counts once
        clock(TODAY - dt.timedelta(days=days_ago))
        follow(who, SKY, GOLDFISH)
    clock(TODAY)
    assert counted(demo, "follow") == 2
    assert "went on to read" not in text_of(app.test_client().get(SKY))
    follow(first, SKY, GOLDFISH)  # the first reader again, on another day: the third
    went_on = part(text_of(app.test_client().get(SKY)), '<section class="went-on"')
    assert "Do goldfish have a three-second memory?" in went_on


def test_explorer_recentres_are_counted(demo, client):
    client.get("/explore/goldfish-memory", headers=HTMX)
    client.get("/explore/goldfish-memory", headers=HTMX)  # repeated: once
    client.get("/explore/bats-are-blind")  # a full page load is a visit, not a re-centre
    assert counted(demo, "recentre") == 1
