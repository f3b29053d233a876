"""Settings from the environment, and migrations that build the schema the models describe."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from webapp import config, create_app
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
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            # On PostgreSQL migration 0007 also adds the search engine's tables.
            wanted = [db.metadata, search_tables.metadata] if connection.dialect.name == "postgresql" else db.metadata
            differences = compare_metadata(MigrationContext.configure(connection), wanted)
        assert differences == []
        downgrade(revision="base")
        with db.engine.begin() as connection:
            connection.execute(text("drop table if exists alembic_version"))
            tables = db.inspect(connection).get_table_names()
        assert tables == []
