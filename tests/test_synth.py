"""`flask demo synth`'s accounts, pledges and daily signals: the same seed makes the same
rows, a pledge moves the counters the campaign shows, a synthetic account logs in, and
the signals are only where readers could have left them. (The questions themselves:
tests/test_commands.py.)"""
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from tests.pages import count_line, text_of
from tests.pledging import make_campaign, widget
from tests.readers import Auth
from tests.test_accounts import logged_in_as
from webapp.accounts.models import User
from webapp.answers.models import ANSWERED, UNANSWERED, Question
from webapp.synthetic import readers
from webapp.extensions import db
from webapp.graph import demand
from webapp.graph.models import AnswerRequest, DailySignal
from webapp.support import pledges as pledge_rows
from webapp.support.models import ACTIVE, RECORD, Campaign, CampaignSupporter, Pledge
from webapp.support.money import format_money

DAYS = 20


def synth_run(runner, *extra: str, seed: int = 5, count: int = 60):
    result = runner.invoke(args=["demo", "synth", "--count", str(count), "--seed", str(seed), "--no-index", *extra])
    assert result.exit_code == 0, result.output
    return result


def made(app) -> dict[str, list[tuple]]:
    """Everything the options made but what depends on the clock (times) or is random on
    purpose (the password's salt, the accounts' session tokens)."""
    with app.app_context():
        return {
            "accounts": db.session.execute(select(User.id, User.email, User.display_name, User.is_editor)
                                           .order_by(User.id)).all(),
            "pledges": db.session.execute(select(
                Pledge.id, Pledge.idempotency_key, Pledge.user_id, Pledge.amount_cents, Pledge.frequency,
                Pledge.public_name, Pledge.message, Pledge.status, Pledge.counted_cents).order_by(Pledge.id)).all(),
            "signals": db.session.execute(select(
                DailySignal.id, DailySignal.day, DailySignal.kind, DailySignal.question_id, DailySignal.from_id,
                DailySignal.count).order_by(DailySignal.id)).all(),
        }


def start_again(app) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.create_all()


def test_the_same_seed_makes_the_same_accounts_pledges_and_signals(app, runner):
    options = ("--accounts", "50", "--pledges", "120", "--signals-days", str(DAYS))
    result = synth_run(runner, *options)
    assert "made 50 confirmed accounts" in result.output and "made 120 pledges" in result.output
    assert f"daily signal rows over {DAYS} days" in result.output
    first = made(app)
    assert [len(first[k]) for k in ("accounts", "pledges")] == [50, 120] and first["signals"]
    start_again(app)
    synth_run(runner, *options)
    assert made(app) == first
    start_again(app)
    synth_run(runner, *options, seed=6)
    other = made(app)
    for kind in ("accounts", "pledges", "signals"):
        assert other[kind] != first[kind], kind


def test_synthetic_accounts_are_confirmed_and_share_one_password_hash(app, runner):
    synth_run(runner, "--accounts", "30", count=5)
    with app.app_context():
        users = db.session.scalars(select(User).order_by(User.id)).all()
        assert [u.email for u in users] == [f"synth-user-{u.id}@example.org" for u in users]
        assert all(u.is_confirmed and u.is_active and not u.is_editor for u in users)
        assert all(u.created_at < u.confirmed_at for u in users)
        assert len({u.password_hash for u in users}) == 1  # hashed once (scrypt: ~0.1 s each)
        assert len({u.session_token for u in users}) == 30


def test_a_synthetic_account_logs_in_through_the_form(app, runner, client):
    synth_run(runner, "--accounts", "3", count=5)
    auth = Auth(app, client)
    assert auth.login("synth-user-2@example.org", "not the password at all").status_code == 401
    assert logged_in_as(client) is None
    assert auth.login("synth-user-2@example.org", readers.SYNTH_PASSWORD).status_code == 303
    assert logged_in_as(client) == "synth-user-2@example.org"


def counters(app) -> tuple[Campaign, int, int, int]:
    """The shown campaign, and its supporters and amount as the pledge rows say."""
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
        mine = Pledge.campaign_id == campaign.id
        supporters = db.session.scalar(select(func.count(func.distinct(Pledge.user_id))).where(mine))
        amount = db.session.scalar(select(func.sum(Pledge.amount_cents)).where(mine))
        count = db.session.scalar(select(func.count()).select_from(Pledge).where(mine))
        db.session.expunge(campaign)
        return campaign, supporters, amount, count


def test_pledges_go_to_a_new_campaign_whose_counters_are_their_sums(app, runner, client):
    result = synth_run(runner, "--accounts", "40", "--pledges", "150", count=5)
    campaign, supporters, amount, count = counters(app)
    assert count == 150 and campaign.slug == "keep-plumb-independent"
    assert (campaign.supporters, campaign.amount_cents) == (supporters, amount)
    assert f"now {supporters} supporters, {format_money(amount)} pledged" in result.output
    assert count_line(text_of(widget(client))) == f"{supporters} of 1,000 supporters · {supporters * 100 // 1000}%"
    check = runner.invoke(args=["support", "check"])
    assert check.exit_code == 0 and "all counters agree" in check.output, check.output
    with app.app_context():
        rows = db.session.scalars(select(Pledge)).all()
        assert {(p.status, p.provider) for p in rows} == {(ACTIVE, RECORD)}
        assert all(p.counted_cents == p.amount_cents and p.provider_ref == f"record:{p.idempotency_key}" for p in rows)
        confirmed = dict(db.session.execute(select(User.id, User.confirmed_at)).all())
        assert all(campaign.starts_at <= p.created_at and confirmed[p.user_id] <= p.created_at for p in rows)
        assert not pledge_rows.check(db.session)


def test_pledges_add_to_the_campaign_shown_and_its_counters_stay_right(app, runner, client):
    make_campaign(app, goal_kind="amount", goal=1_000_000)  # $10,000, started now
    synth_run(runner, "--accounts", "30", "--pledges", "60", count=5)
    synth_run(runner, "--pledges", "45", count=1, seed=9)  # the same accounts again: some supporters already
    campaign, supporters, amount, count = counters(app)
    assert count == 105 and (campaign.supporters, campaign.amount_cents) == (supporters, amount)
    assert count_line(text_of(widget(client))) == f"{format_money(amount)} of $10,000 · {amount * 100 // 1_000_000}%"
    with app.app_context():
        per_account = dict(db.session.execute(select(Pledge.user_id, func.count()).group_by(Pledge.user_id)).all())
        kept = dict(db.session.execute(select(CampaignSupporter.user_id, CampaignSupporter.active_pledges)).all())
        assert kept == per_account
    assert runner.invoke(args=["support", "check"]).exit_code == 0


def test_pledges_without_synthetic_accounts_are_refused_before_anything_is_made(app, runner):
    result = runner.invoke(args=["demo", "synth", "--count", "5", "--pledges", "10", "--no-index"])
    assert result.exit_code == 2 and "add --accounts" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_signals_only_where_readers_could_have_left_them(app, runner, client):
    synth_run(runner, "--signals-days", str(DAYS), count=80)
    today = dt.date.today()
    with app.app_context():
        status = dict(db.session.execute(select(Question.id, Question.status)).all())
        signals = db.session.scalars(select(DailySignal)).all()
    assert {s.kind for s in signals} == {"view", "follow", "recentre", "request"}
    assert {s.day for s in signals} == {today - dt.timedelta(days=n) for n in range(DAYS)}
    assert all(s.question_id in status and s.count >= 1 for s in signals)
    for s in signals:
        if s.kind == "request":
            assert status[s.question_id] == UNANSWERED and s.from_id == 0
        elif s.kind == "follow":
            assert s.from_id in status and s.from_id != s.question_id
        else:
            assert status[s.question_id] == ANSWERED and s.from_id == 0
    per_day: dict[dt.date, int] = {}
    for s in signals:
        per_day[s.day] = per_day.get(s.day, 0) + 1
    assert max(per_day.values()) <= sum(readers.ROWS_A_DAY.values())
    # The most read show where readers see them, and the requests are readers' requests.
    assert "Most read this week" in text_of(client.get("/"))
    with app.app_context():
        asked = Counter(dict(db.session.execute(select(AnswerRequest.question_id, func.count())
                                                .group_by(AnswerRequest.question_id)).all()))
        counted = Counter()
        for s in signals:
            counted[s.question_id] += s.count if s.kind == "request" else 0
        assert asked and asked == +counted
        assert demand.check(db.session) == []
    listed = text_of(client.get("/requests"))
    most = max(asked, key=lambda q: (asked[q], -q))
    assert f"{asked[most]} requests" in listed
    again = runner.invoke(args=["demo", "synth", "--count", "1", "--signals-days", "3", "--no-index"])
    assert again.exit_code == 2 and "daily signals between" in again.output  # they would collide


def planner_statistics(app, *tables: str) -> dict[str, int]:
    """PostgreSQL: how many columns of each table ANALYZE has described to the planner."""
    with app.app_context():
        return {t: db.session.scalar(text("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
                                          "AND tablename = :t"), {"t": t}) for t in tables}


def test_synth_leaves_the_planner_statistics_of_what_it_loaded(app, runner):
    # Without them (autovacuum analyses later, or never where it is off) a rebuild at
    # 1,000,000 questions read the sections of each batch of 500 questions with a
    # parallel scan of all 4,000,000, compiled each time: 3.6 times slower.
    with app.app_context():
        on_postgres = db.engine.dialect.name == "postgresql"
    if not on_postgres:
        pytest.skip("PostgreSQL's planner statistics (SQLite plans by rules here)")
    tables = ("question", "section", "source", "related_link")
    with app.app_context():  # the tables are reused between tests, their statistics too
        db.session.execute(text("DELETE FROM pg_statistic WHERE starelid = ANY(CAST(:t AS regclass[]))"),
                           {"t": list(tables)})
        db.session.commit()
    assert not any(planner_statistics(app, *tables).values())
    synth_run(runner, count=40)
    assert all(planner_statistics(app, *tables).values())
