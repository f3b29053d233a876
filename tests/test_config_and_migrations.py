"""Settings from the environment, and migrations that build the schema the models describe."""
import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from webapp import config, create_app
from webapp.commands import migrations
from webapp.database import built_on
from webapp.extensions import db
from webapp.search.postgres import schema as search_tables


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("PLUMB_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app()


def test_production_cookies_are_secure_and_http_only(monkeypatch):
    monkeypatch.setenv("PLUMB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    settings = config.from_environment()
    assert settings["SESSION_COOKIE_SECURE"] and settings["SESSION_COOKIE_HTTPONLY"]
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_responses_tell_browsers_to_use_https_only(app):
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers  # development
    app.config["PLUMB_ENV"] = "production"
    header = app.test_client().get("/healthz").headers.get("Strict-Transport-Security")
    assert header == "max-age=31536000; includeSubDomains"
    app.config["HSTS_SECONDS"] = 0
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers


@pytest.mark.parametrize("given, used", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_url_is_read_from_the_environment(monkeypatch, given, used):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config.from_environment()["SQLALCHEMY_DATABASE_URI"] == used


def test_defaults_name_the_site_and_keep_data_under_the_project(monkeypatch):
    for name in ("SITE_NAME", "DATABASE_URL", "SEARCH_INDEX_DIR", "PLUMB_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment()
    assert settings["SITE_NAME"] == "Plumb"
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("instance/plumb.db")
    assert settings["SEARCH_INDEX_DIR"].endswith("search_index")


def test_migrations_build_exactly_the_schema_of_the_models(app):
    migrations(app)  # Flask-Migrate is bound for the command line, or on asking
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            # On PostgreSQL migration 0007 also adds the search engine's tables.
            wanted = [db.metadata, search_tables.metadata] if connection.dialect.name == "postgresql" else db.metadata
            context = MigrationContext.configure(
                connection, opts={"include_object": built_on(connection.dialect.name)})
            differences = compare_metadata(context, wanted)
        assert differences == []
        downgrade(revision="base")
        with db.engine.begin() as connection:
            connection.execute(text("drop table if exists alembic_version"))
            tables = db.inspect(connection).get_table_names()
        assert tables == []


def _counters(connection, summed):
    """Each campaign's stored (supporters, amount_cents) and its accounts' active_pledges,
    beside what the active pledge rows say when each adds its `summed` column."""
    stored = {slug: (supporters, amount) for slug, supporters, amount in connection.execute(text(
        "select slug, supporters, amount_cents from campaign"))}
    real = {slug: (supporters, amount) for slug, supporters, amount in connection.execute(text(
        f"select c.slug, count(distinct p.user_id), coalesce(sum(p.{summed}), 0) from campaign c"
        " left join pledge p on p.campaign_id = c.id and p.status = 'active' group by c.slug"))}
    per_user = {(slug, user): (stored_active, real_active) for slug, user, stored_active, real_active
                in connection.execute(text(
                    "select c.slug, s.user_id, s.active_pledges, (select count(*) from pledge p where p.campaign_id ="
                    " s.campaign_id and p.user_id = s.user_id and p.status = 'active')"
                    " from campaign_supporter s join campaign c on c.id = s.campaign_id"))}
    return stored, real, per_user


def test_downgrading_payments_leaves_counters_that_the_old_check_accepts(app):
    """0010's counters add counted_cents (a monthly Stripe pledge's later months on top);
    0009's add amount_cents, so the downgrade counts again from what is left."""
    now = dt.datetime(2026, 12, 1, 12, 0)
    migrations(app)
    with app.app_context():
        db.drop_all()
        upgrade(revision="0010_payments")  # not head: another revision may be on its way
        try:
            with db.engine.begin() as connection:
                connection.execute(text(
                    "insert into campaign (id, slug, headline, text, goal_kind, goal, currency, goal_offset,"
                    " supporters, amount_cents, created_at) values (:id, :slug, 'Help', 'Help us', 'amount',"
                    " 100000, 'USD', 0, :supporters, :amount, :now)"), [
                    {"id": 1, "slug": "books", "supporters": 1, "amount": 1500 + 1000, "now": now},
                    {"id": 2, "slug": "tools", "supporters": 1, "amount": 400 * 2, "now": now},
                ])
                connection.execute(text(
                    "insert into user_account (id, email, display_name, password_hash, session_token,"
                    " is_editor, created_at) values (:id, :email, :email, 'x', :email, :editor, :now)"), [
                    {"id": n, "email": f"{name}@example.com", "editor": False, "now": now}
                    for n, name in ((1, "ana"), (2, "ben"), (3, "cy"))
                ])
                connection.execute(text(
                    "insert into pledge (id, idempotency_key, campaign_id, user_id, amount_cents, currency,"
                    " frequency, status, provider, provider_ref, counted_cents, created_at) values (:id,"
                    " :key, :campaign, :user, :amount, 'USD', :frequency, :status, :provider, :key,"
                    " :counted, :now)"), [
                    {"id": n, "key": f"key-{n}", "campaign": campaign, "user": user, "amount": amount,
                     "frequency": frequency, "status": status, "provider": provider, "counted": counted, "now": now}
                    for n, campaign, user, amount, frequency, status, provider, counted in (
                        (1, 1, 1, 500, "monthly", "active", "stripe", 500 * 3),  # three months paid
                        (2, 1, 1, 1000, "once", "active", "record", 1000),
                        (3, 1, 2, 2000, "once", "refunded", "stripe", 0),
                        (4, 1, 3, 700, "monthly", "pending", "stripe", 0),
                        (5, 1, 2, 300, "once", "cancelled", "record", 0),
                        (6, 2, 2, 400, "monthly", "active", "stripe", 400 * 2),
                        (7, 2, 3, 900, "once", "disputed", "stripe", 0),
                        (8, 2, 1, 100, "once", "expired", "stripe", 0),
                    )
                ])
                connection.execute(text(
                    "insert into campaign_supporter (campaign_id, user_id, active_pledges)"
                    " values (:campaign, :user, :active)"), [
                    {"campaign": 1, "user": 1, "active": 2}, {"campaign": 1, "user": 2, "active": 0},
                    {"campaign": 2, "user": 2, "active": 1}, {"campaign": 2, "user": 3, "active": 0},
                ])
            with db.engine.connect() as connection:
                stored, real, per_user = _counters(connection, "counted_cents")
            assert stored == real == {"books": (1, 2500), "tools": (1, 800)}  # consistent under 0010
            assert all(s == r for s, r in per_user.values())

            downgrade(revision="0009_content_version")
            with db.engine.connect() as connection:
                stored, real, per_user = _counters(connection, "amount_cents")
                statuses = dict(connection.execute(text("select id, status from pledge")).all())
            assert statuses == {1: "active", 2: "active", 3: "cancelled", 5: "cancelled", 6: "active", 7: "cancelled"}
            assert stored == real == {"books": (1, 500 + 1000), "tools": (1, 400)}
            assert per_user == {("books", 1): (2, 2), ("books", 2): (0, 0), ("tools", 2): (1, 1), ("tools", 3): (0, 0)}
        finally:
            with db.engine.begin() as connection:  # 0008's downgrade rebuilds user_account on SQLite
                for table in ("pledge", "campaign_supporter", "user_account", "campaign"):
                    connection.execute(text(f"delete from {table}"))
            downgrade(revision="base")
            with db.engine.begin() as connection:
                connection.execute(text("drop table if exists alembic_version"))
