"""`flask db backup` and `flask db restore`: a restored backup has every answer and
pledge, counters that agree, and search that finds them; a backup taken while the site
writes is one consistent moment; a restore never replaces data unasked; bad paths get
a clear error. On SQLite always, on PostgreSQL too when TEST_DATABASE_URL names one
(with scratch databases beside it, named after it)."""
from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import make_url

from tests.apps import all_tables, make_app
from tests.pages import text_of
from tests.pledging import make_campaign
from webapp.commands import migrations
from webapp.accounts import service as accounts
from webapp.accounts.models import User
from webapp.answers.models import Question, Section
from webapp.extensions import db
from webapp.operations import backups
from webapp.support import pledges
from webapp.support.choices import Choice
from webapp.support.models import Campaign, Pledge

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
BATS = "/q/bats-are-blind"
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own file and locks")


# --- helpers -------------------------------------------------------------------------------

def account(app, email: str) -> int:
    with app.app_context():
        user = User(email=email, display_name="Sup Porter", password_hash="", session_token=accounts.new_session_token())
        db.session.add(user)
        db.session.commit()
        return user.id


def pledge(app, campaign_id: int, user_id: int, cents: int) -> int:
    with app.app_context():
        choice = Choice(amount_cents=cents, frequency="once", key=pledges.new_key(), public_name="A Reader")
        return pledges.pledge(db.engine, db.session.get(Campaign, campaign_id), user_id, choice).pledge_id


def holdings(app) -> dict:
    """What an operator would check after a restore: every pledge, answer and counter."""
    with app.app_context():
        found = {
            "pledges": sorted(db.session.execute(select(
                Pledge.idempotency_key, Pledge.user_id, Pledge.amount_cents, Pledge.status)).all()),
            "answers": sorted(db.session.scalars(select(Question.slug))),
            "sections": db.session.scalar(select(func.count()).select_from(Section)),
            "counters": db.session.execute(select(Campaign.slug, Campaign.supporters, Campaign.amount_cents)).all(),
            "counters agree": pledges.check(db.session) == [],
        }
        db.session.remove()
        return found


def finds(app, query: str, href: str) -> bool:
    return f'href="{href}"' in text_of(app.test_client().get(f"/search?q={query}"))


def run(app, *args):
    return app.test_cli_runner().invoke(args=["db", *map(str, args)])


def database_file(app) -> Path:
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


def _admin(statement: str) -> None:
    """CREATE or DROP DATABASE, from the test database's server."""
    engine = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


@pytest.fixture
def empty_app(tmp_path):
    """Make apps on databases that have never held anything: SQLite, a file not there yet;
    PostgreSQL, a new database beside the test one (dropped afterwards)."""
    made = []

    def make(name: str = "fresh"):
        folder = tmp_path / name
        folder.mkdir()
        if ON_POSTGRES:
            url = make_url(os.environ["TEST_DATABASE_URL"])
            scratch = f"{url.database}_{name}"
            _admin(f'DROP DATABASE IF EXISTS "{scratch}"')
            _admin(f'CREATE DATABASE "{scratch}"')
            uri = url.set(database=scratch).render_as_string(hide_password=False)
        else:
            uri = f"sqlite:///{folder / 'plumb.db'}"
        app = make_app(folder, SQLALCHEMY_DATABASE_URI=uri)
        with app.app_context():  # make_app made the tables: take them away again
            db.engine.dispose()
        if ON_POSTGRES:
            _admin(f'DROP DATABASE "{scratch}"')
            _admin(f'CREATE DATABASE "{scratch}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                (folder / f"plumb.db{suffix}").unlink(missing_ok=True)
        made.append((app, scratch if ON_POSTGRES else None))
        return app

    yield make
    for app, scratch in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if scratch:
            _admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.fixture
def site(demo):
    """The demo answers, a campaign, and pledges from two readers (one of them cancelled)."""
    campaign_id = make_campaign(demo)
    first, second = account(demo, "first@example.org"), account(demo, "second@example.org")
    pledge(demo, campaign_id, first, 500)
    pledge(demo, campaign_id, first, 2500)
    cancelled = pledge(demo, campaign_id, second, 1000)
    pledge(demo, campaign_id, second, 700)
    with demo.app_context():
        assert pledges.cancel(db.engine, cancelled, second)
    return demo


def damage(app) -> None:
    """Lose every pledge (the counters stay: they disagree now) and two answers."""
    with app.app_context():
        db.session.execute(delete(Pledge))
        for slug in ("bats-are-blind", "bulls-hate-red"):
            db.session.delete(db.session.scalar(select(Question).where(Question.slug == slug)))
        db.session.commit()


# --- restoring what was backed up --------------------------------------------------------------

def test_a_restored_backup_has_every_pledge_and_answer_and_search_finds_them_again(site, tmp_path):
    before = holdings(site)
    assert len(before["pledges"]) == 4 and before["counters"] == [("keep-plumb-independent", 2, 3700)]
    backed_up = run(site, "backup", tmp_path / "plumb.backup")
    assert backed_up.exit_code == 0, backed_up.output
    damage(site)
    damaged = holdings(site)
    assert damaged["pledges"] == [] and "bats-are-blind" not in damaged["answers"]
    assert not damaged["counters agree"] and not finds(site, "bats+blind", BATS)

    restored = run(site, "restore", "--yes", tmp_path / "plumb.backup")

    assert restored.exit_code == 0, restored.output
    assert holdings(site) == before
    assert finds(site, "bats+blind", BATS)
    assert "all pledge counters agree with the pledges" in restored.output


def test_a_backup_restores_into_a_new_empty_database_and_its_search_is_built_from_it(site, empty_app, tmp_path):
    before = holdings(site)
    assert run(site, "backup", tmp_path / "plumb.backup").exit_code == 0
    fresh = empty_app()

    restored = run(fresh, "restore", tmp_path / "plumb.backup")  # nothing to replace: no --yes needed

    assert restored.exit_code == 0, restored.output
    assert holdings(fresh) == before
    assert finds(fresh, "bats+blind", BATS)
    if ON_POSTGRES:  # pg_restore leaves the planner no statistics; the restore gathers them
        with fresh.app_context():
            assert db.session.scalar(text("SELECT count(DISTINCT tablename) FROM pg_stats WHERE tablename IN "
                                          "('question', 'section', 'pledge', 'related_link')")) == 4
    if not ON_POSTGRES:  # Whoosh: the new app's index folder was empty until the restore
        assert "search rebuilt from the restored database: 50 questions" in restored.output


@sqlite_only
def test_a_backup_while_another_connection_holds_a_write_transaction_is_one_consistent_moment(
        site, empty_app, tmp_path):
    before = holdings(site)  # the pledges are committed, and still in the write-ahead log
    writer = sqlite3.connect(database_file(site), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the write lock, held through the backup
        writer.execute("UPDATE campaign SET supporters = supporters + 1, amount_cents = amount_cents + 900")
        backed_up = run(site, "backup", tmp_path / "plumb.backup")  # half a pledge written, not committed
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert backed_up.exit_code == 0, backed_up.output
    fresh = empty_app()
    assert run(fresh, "restore", tmp_path / "plumb.backup").exit_code == 0
    assert holdings(fresh) == before  # every committed pledge, none of the open transaction


def test_restore_without_yes_onto_a_database_with_data_refuses_and_changes_nothing(site, tmp_path):
    assert run(site, "backup", tmp_path / "plumb.backup").exit_code == 0
    with site.app_context():
        campaign_id = db.session.scalar(select(Campaign.id))
    pledge(site, campaign_id, account(site, "later@example.org"), 4200)  # after the backup
    before = holdings(site)

    refused = run(site, "restore", tmp_path / "plumb.backup")

    assert refused.exit_code == 1
    assert "holds data that restoring would replace" in refused.output
    assert "pledge 5" in refused.output and "question 50" in refused.output  # what would go
    assert "--yes" in refused.output and "Traceback" not in refused.output
    assert holdings(site) == before


def test_restore_refuses_a_backup_from_a_newer_version_of_plumb(site, tmp_path):
    with site.app_context():
        db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        db.session.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
        db.session.commit()
    try:
        assert run(site, "backup", tmp_path / "plumb.backup").exit_code == 0
    finally:
        with site.app_context():
            db.session.execute(text("DROP TABLE alembic_version"))
            db.session.commit()
    damage(site)
    before = holdings(site)

    refused = run(site, "restore", "--yes", tmp_path / "plumb.backup")

    assert refused.exit_code == 1
    assert "9999_from_the_future" in refused.output and "restore it with the version that made it" in refused.output
    assert holdings(site) == before


@pytest.fixture
def keep_logging():
    """Migrations run alembic's env.py, whose fileConfig() disables every logger that
    exists already and replaces the root's handlers: put them back for the tests after."""
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    kept = [(logger, logger.disabled, logger.level, list(logger.handlers), logger.propagate) for logger in loggers]
    yield
    for logger, disabled, level, handlers, propagate in kept:
        logger.disabled, logger.propagate, logger.handlers[:] = disabled, propagate, handlers
        logger.setLevel(level)


def test_restoring_a_backup_from_an_older_version_migrates_it_to_this_one(empty_app, tmp_path, keep_logging):
    older = empty_app("older")
    migrations(older)
    with older.app_context():
        upgrade(revision="0006_accounts_support")
    assert run(older, "backup", tmp_path / "old.backup").exit_code == 0
    fresh = empty_app()

    restored = run(fresh, "restore", tmp_path / "old.backup")

    assert restored.exit_code == 0, restored.output
    assert "migrated the restored schema from 0006_accounts_support to" in restored.output
    with fresh.app_context():
        head = backups._scripts().get_current_head()
        assert backups.database_revision(db.engine) == head
        db.session.scalar(select(func.count()).select_from(User))  # today's model reads the table


# --- bad paths, missing tools -------------------------------------------------------------------

def not_plumb(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE note (text)")
    return path


@pytest.mark.parametrize("command, path, message", [
    ("backup", lambda t: t / "missing-folder" / "plumb.backup", "no such folder"),
    ("backup", lambda t: t, "is a folder: give a file name"),
    ("restore", lambda t: t / "missing.backup", "no such file"),
    ("restore", lambda t: t, "is not a file"),
    ("restore", lambda t: Path(__file__), "is neither an SQLite database nor a pg_dump custom-format file"),
    ("restore", not_plumb, "not a Plumb one"),
])
def test_a_bad_path_is_a_clear_error_with_exit_code_1_and_changes_nothing(site, tmp_path, command, path, message):
    before = holdings(site)
    args = [command, "--yes", path(tmp_path)] if command == "restore" else [command, path(tmp_path)]

    result = run(site, *args)

    assert result.exit_code == 1
    assert "Error: " in result.output and message in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert holdings(site) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@sqlite_only
def test_backing_up_onto_the_database_file_itself_is_refused(site):
    before = holdings(site)
    result = run(site, "backup", database_file(site))
    assert result.exit_code == 1 and "is the database itself" in result.output
    assert holdings(site) == before


def test_without_pg_dump_a_postgresql_backup_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    engine = create_engine("postgresql+psycopg://plumb@db.invalid/plumb")  # never connected to
    with pytest.raises(backups.BackupError, match=r"pg_dump was not found on PATH: install .*postgresql-client"):
        backups.backup(engine, tmp_path / "plumb.backup")
    assert list(tmp_path.iterdir()) == []


def test_a_server_newer_than_pg_dump_is_refused_with_the_version_to_install():
    assert backups.major_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") == 15
    backups.check_versions(server_major=15, tool_major=15)
    backups.check_versions(server_major=14, tool_major=15)
    with pytest.raises(backups.BackupError, match="PostgreSQL 17 but pg_dump is from PostgreSQL 15.*postgresql-client-17"):
        backups.check_versions(server_major=17, tool_major=15)


def test_the_password_reaches_pg_dump_in_its_environment_never_on_its_command_line():
    url = make_url("postgresql+psycopg://plumb:s3cr%27t%20pass@db.example:5433/plumb_live?sslmode=require")
    conninfo, env = backups.libpq(url)
    assert conninfo == "host='db.example' port='5433' user='plumb' dbname='plumb_live' sslmode='require'"
    assert env == {"PGPASSWORD": "s3cr't pass"}
    socket = make_url("postgresql+psycopg://plumb@/plumb?host=/var/run/postgresql")
    assert backups.libpq(socket) == ("host='/var/run/postgresql' user='plumb' dbname='plumb'", {})


def test_the_backed_up_tables_are_all_of_the_apps(site, tmp_path):
    """Nothing the app keeps is left out of a backup (PostgreSQL: the search documents too)."""
    assert run(site, "backup", tmp_path / "plumb.backup").exit_code == 0
    found = backups.read_backup(tmp_path / "plumb.backup")
    if found.kind == "sqlite":
        with sqlite3.connect(tmp_path / "plumb.backup") as copy:
            tables = {name for (name,) in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        listing = backups._tool_output(["pg_restore", "--list", str(tmp_path / "plumb.backup")])
        tables = {line.split()[-2] for line in listing.splitlines() if " TABLE DATA " in line}
    assert {table.name for table in all_tables()} <= tables
