"""`flask support …`: editors create, change, end and list campaigns; `check` proves the
counters; `demo` makes the demo campaign once."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from tests.pages import HTMX, text_of
from webapp.accounts import service as accounts
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.support import pledges
from webapp.support.choices import Choice
from webapp.support.models import Campaign

BASICS = ["--headline", "Keep Plumb independent", "--text", "Readers pay for the research."]


def run(runner, *args):
    return runner.invoke(args=["support", *args])


def create(runner, slug="spring", *options):
    return run(runner, "campaign", "create", slug, *BASICS, *options)


def campaign(app, slug="spring") -> Campaign:
    with app.app_context():
        found = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        if found is not None:
            db.session.expunge(found)
        return found


def all_slugs(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Campaign.slug).order_by(Campaign.id)))


def widget(app) -> str:
    return text_of(app.test_client().get("/support/widget", headers=HTMX))


def add_pledge(app, slug, user_id, cents=1000) -> None:
    with app.app_context():
        shown = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        choice = Choice(amount_cents=cents, frequency="once", key=pledges.new_key())
        pledges.pledge(db.engine, shown, user_id, choice)


def account(app, email) -> int:
    """An account row (pledges need one; no password is used here)."""
    with app.app_context():
        user = User(email=email, display_name="Sup Porter", password_hash="", session_token=accounts.new_session_token())
        db.session.add(user)
        db.session.commit()
        return user.id


# --- create ------------------------------------------------------------------------------

def test_create_a_supporters_goal_and_the_widget_shows_it(app, runner):
    result = create(runner, "spring", "--goal-supporters", "1000", "--deadline", "2099-12-31T18:00")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("spring: running, 0 of 1,000 supporters (0%), "
                                    "deadline 2099-12-31 18:00 UTC")
    made = campaign(app)
    assert (made.goal_kind, made.goal, made.currency, made.goal_offset) == ("supporters", 1000, "USD", 0)
    assert made.deadline == dt.datetime(2099, 12, 31, 18, 0)
    shown = widget(app)
    assert "Keep Plumb independent" in shown and "Goal: 1,000 supporters" in shown
    assert 'action="/support/pledge"' in shown


def test_create_an_amount_goal_with_an_offset(app, runner):
    result = create(runner, "fund", "--goal-amount", "5,000.50", "--offset", "100", "--currency", "usd")
    assert result.exit_code == 0, result.output
    assert "fund: running, $100 of $5,000.50 (1%)" in result.output
    made = campaign(app, "fund")
    assert (made.goal_kind, made.goal, made.goal_offset, made.currency) == ("amount", 500_050, 10_000, "USD")
    assert "Goal: $5,000.50" in widget(app)


def test_a_deadline_with_a_time_zone_is_kept_in_utc(app, runner):
    assert create(runner, "spring", "--goal-supporters", "10", "--deadline", "2099-06-01T12:00+02:00").exit_code == 0
    assert campaign(app).deadline == dt.datetime(2099, 6, 1, 10, 0)


@pytest.mark.parametrize("options, says", [
    ([], "a new campaign needs --headline, --text and --goal-supporters or --goal-amount"),
    (["--goal-supporters", "0"], "0 is not in the range"),
    (["--goal-supporters", "many"], "'many' is not a valid integer"),
    (["--goal-amount", "abc"], "'abc' is not an amount such as 500 or 1,250.50"),
    (["--goal-amount", "0"], "'0' is not an amount"),
    (["--goal-amount", "-5"], "'-5' is not an amount"),
    (["--goal-supporters", "10", "--goal-amount", "500"], "Give --goal-supporters or --goal-amount, not both."),
    (["--goal-supporters", "10", "--deadline", "next week"], "'next week' is not an ISO date"),
    (["--goal-supporters", "10", "--starts", "2099-13-01"], "'2099-13-01' is not an ISO date"),
    (["--goal-supporters", "10", "--offset", "-3"], "'-3' is not a number of supporters"),
    (["--goal-amount", "500", "--offset", "lots"], "'lots' is not an amount"),
    (["--goal-supporters", "10", "--currency", "dollars"], "a three-letter code such as USD"),
])
def test_create_refuses_bad_input_with_a_clear_message_and_creates_nothing(app, runner, options, says):
    result = create(runner, "spring", *options)
    assert result.exit_code == 2
    assert says in result.output
    assert all_slugs(app) == []


def test_create_needs_a_headline_and_text(app, runner):
    result = run(runner, "campaign", "create", "spring", "--goal-supporters", "10")
    assert result.exit_code == 2 and "needs --headline, --text" in result.output
    assert all_slugs(app) == []


@pytest.mark.parametrize("slug", ["Spring", "spring campaign", "spring/2099", "spring\n"])
def test_create_refuses_a_bad_slug(app, runner, slug):
    result = create(runner, slug, "--goal-supporters", "10")
    assert result.exit_code == 2 and "letters a-z, digits and hyphens only" in result.output
    assert all_slugs(app) == []


def test_create_refuses_a_slug_that_exists(app, runner):
    assert create(runner, "spring", "--goal-supporters", "10").exit_code == 0
    result = create(runner, "spring", "--goal-supporters", "500")
    assert result.exit_code == 1
    assert "a campaign called 'spring' exists already; change it with `update`" in result.output
    assert all_slugs(app) == ["spring"] and campaign(app).goal == 10


# --- update and end -------------------------------------------------------------------------

def test_update_changes_only_the_options_given(app, runner):
    create(runner, "spring", "--goal-supporters", "1000", "--deadline", "2099-12-31")
    result = run(runner, "campaign", "update", "spring", "--goal-supporters", "500", "--offset", "20")
    assert result.exit_code == 0, result.output
    assert "spring: running, 20 of 500 supporters (4%), deadline 2099-12-31 00:00 UTC" in result.output
    changed = campaign(app)
    assert (changed.headline, changed.goal, changed.goal_offset) == ("Keep Plumb independent", 500, 20)
    assert "20 of 500 supporters · 4%" in widget(app)
    result = run(runner, "campaign", "update", "spring", "--headline", "Help us  stay\tfree", "--deadline", "none")
    assert result.exit_code == 0
    changed = campaign(app)
    assert (changed.headline, changed.deadline, changed.goal) == ("Help us stay free", None, 500)
    assert "Help us stay free" in widget(app) and "Time left" not in widget(app)


def test_update_refuses_bad_input_and_changes_nothing(app, runner):
    create(runner, "spring", "--goal-supporters", "1000")
    result = run(runner, "campaign", "update", "spring", "--goal-amount", "abc")
    assert result.exit_code == 2 and "'abc' is not an amount" in result.output
    assert campaign(app).goal == 1000


def test_update_and_end_an_unknown_campaign(app, runner):
    for command in (["update", "autumn", "--goal-supporters", "5"], ["end", "autumn"]):
        result = run(runner, "campaign", *command)
        assert result.exit_code == 1 and "no campaign called 'autumn'" in result.output


def test_an_ended_campaign_takes_no_more_pledges_and_the_widget_says_so(app, runner):
    create(runner, "spring", "--goal-supporters", "1000")
    assert 'action="/support/pledge"' in widget(app)
    result = run(runner, "campaign", "end", "spring")
    assert result.exit_code == 0 and result.output.startswith("spring: ended,")
    assert campaign(app).ended_at is not None
    shown = widget(app)
    assert "This campaign has ended." in shown and 'action="/support/pledge"' not in shown


# --- list ----------------------------------------------------------------------------

def test_list_marks_the_campaign_readers_see(app, runner):
    create(runner, "spring", "--goal-supporters", "1000")
    create(runner, "autumn", "--goal-amount", "500", "--starts", (utcnow() + dt.timedelta(days=60)).date().isoformat())
    lines = run(runner, "campaign", "list").output.splitlines()
    assert lines[0].startswith("* spring: running") and lines[1].startswith("  autumn: upcoming")
    run(runner, "campaign", "end", "spring")
    lines = run(runner, "campaign", "list").output.splitlines()
    assert lines[0].startswith("  spring: ended") and lines[1].startswith("* autumn: upcoming")
    assert "This campaign starts on" in widget(app)


def test_list_with_no_campaigns_prints_nothing(runner):
    result = run(runner, "campaign", "list")
    assert result.exit_code == 0 and result.output == ""


# --- check ------------------------------------------------------------------------------

def test_check_passes_when_the_counters_agree_with_the_pledges(app, runner):
    create(runner, "spring", "--goal-supporters", "1000")
    first, second = account(app, "a@example.org"), account(app, "b@example.org")
    add_pledge(app, "spring", first, 1000)
    add_pledge(app, "spring", first, 2500)
    add_pledge(app, "spring", second, 500)
    result = run(runner, "check")
    assert result.exit_code == 0, result.output
    assert result.output == "all counters agree with the pledges (1 campaign)\n"
    shown = campaign(app)
    assert (shown.supporters, shown.amount_cents) == (2, 4000)


@pytest.mark.parametrize("corruption, says", [
    ("UPDATE campaign SET supporters = supporters + 1", "spring: supporters is 3, the pledges say 2"),
    ("UPDATE campaign SET amount_cents = amount_cents - 500", "spring: amount_cents is 3500, the pledges say 4000"),
    ("UPDATE campaign_supporter SET active_pledges = 5 WHERE active_pledges = 2",
     "is 5, the pledges say 2"),
])
def test_check_fails_and_names_a_counter_that_drifted(app, runner, corruption, says):
    create(runner, "spring", "--goal-supporters", "1000")
    first, second = account(app, "a@example.org"), account(app, "b@example.org")
    add_pledge(app, "spring", first, 1000)
    add_pledge(app, "spring", first, 2500)
    add_pledge(app, "spring", second, 500)
    with app.app_context():
        db.session.execute(text(corruption))
        db.session.commit()
    result = run(runner, "check")
    assert result.exit_code == 1
    assert says in result.output
    assert "all counters agree" not in result.output


# --- demo -----------------------------------------------------------------------------

def test_demo_creates_one_campaign_once(app, runner):
    first = run(runner, "demo")
    assert first.exit_code == 0 and first.output.startswith("keep-plumb-independent: running")
    again = run(runner, "demo")
    assert again.exit_code == 0 and "a campaign exists already; nothing to do" in again.output
    assert all_slugs(app) == ["keep-plumb-independent"]
    shown = widget(app)
    assert "Keep Plumb independent" in shown and "Goal: 1,000 supporters" in shown
    assert re.search(r"Time left: (29|30) days", shown)  # 30 days from today's midnight (UTC)


def test_demo_leaves_an_editors_campaign_alone(app, runner):
    create(runner, "spring", "--goal-supporters", "10")
    assert "nothing to do" in run(runner, "demo").output
    assert all_slugs(app) == ["spring"]
