"""Fixtures: a fresh app and database per test, the demo content, and htmx requests.

Set TEST_DATABASE_URL to run the same tests against PostgreSQL (`make test` does
when a server answers on 127.0.0.1:5432)."""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from webapp import create_app
from webapp.content.importer import import_folder
from webapp.database import advance_sequences
from webapp.extensions import db, limiter
from webapp.graph import suggestions
from webapp.search.engine import engine_name
from webapp.search.postgres import schema as search_tables

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "content" / "demo"
HTMX = {"HX-Request": "true"}


def all_tables():
    """The models' tables, and on PostgreSQL the search engine's own."""
    extra = search_tables.metadata.sorted_tables if os.environ.get("TEST_DATABASE_URL") else []
    return [*db.metadata.sorted_tables, *extra]


def _database_url(folder: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{folder / 'plumb.db'}"


def make_app(folder: Path, **overrides):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(folder),
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        # Empty: the engine that goes with the database (TEST_SEARCH_ENGINE=whoosh tries the other).
        "SEARCH_ENGINE": os.environ.get("TEST_SEARCH_ENGINE", ""),
        "SITE_URL": "https://plumb.example",
        "SEARCH_REBUILD_IN_BACKGROUND": False,
        # Rate limits in Redis when TEST_REDIS_URL names one (`make test` does where it answers).
        "RATELIMIT_STORAGE_URI": os.environ.get("TEST_REDIS_URL") or "memory://",
    }
    settings.update(overrides)
    app = create_app(settings)
    # Each test starts with full allowances (memory storage is new per app anyway; the
    # limiter is one object per process, so its key prefix cannot tell tests apart).
    limiter.reset()
    with app.app_context():
        db.drop_all()  # a shared PostgreSQL database may hold the last test's tables
        db.create_all()
    return app


def drop(app) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    drop(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def import_demo(app) -> None:
    """What `flask content import content/demo` does: import, then suggest related questions."""
    with app.app_context():
        report = import_folder(db.session, DEMO)
        assert not report.rejected, report.rejected
        suggestions.refresh(db.session)


@dataclass
class DemoTemplate:
    folder: Path  # its plumb.db (SQLite) and search_index/
    rows: dict[str, list[dict]] | None  # PostgreSQL: every table's rows, to insert again


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> DemoTemplate:
    """The demo imported and indexed once; each test gets a copy of the database and
    the index, 30x faster than importing again."""
    folder = tmp_path_factory.mktemp("demo-template")
    template = make_app(folder)
    import_demo(template)
    rows = None
    with template.app_context():
        if os.environ.get("TEST_DATABASE_URL"):
            rows = {t.name: [dict(r._mapping) for r in db.session.execute(t.select())] for t in all_tables()}
        db.session.remove()
        db.engine.dispose()  # SQLite: checkpoints the WAL into the main file
    return DemoTemplate(folder, rows)


@pytest.fixture
def demo(app, demo_template, tmp_path):
    """The app with the demo content imported and indexed."""
    with app.app_context():
        if demo_template.rows is None:
            db.engine.dispose()
            for suffix in ("-wal", "-shm"):
                (tmp_path / f"plumb.db{suffix}").unlink(missing_ok=True)
            shutil.copyfile(demo_template.folder / "plumb.db", tmp_path / "plumb.db")
        else:
            for table in all_tables():
                if demo_template.rows[table.name]:
                    db.session.execute(table.insert(), demo_template.rows[table.name])
            db.session.commit()
            advance_sequences(db.session, db.metadata.sorted_tables)
    shutil.rmtree(tmp_path / "search_index", ignore_errors=True)
    if (demo_template.folder / "search_index").exists():
        shutil.copytree(demo_template.folder / "search_index", tmp_path / "search_index")
    if engine_name(app) == "whoosh":
        app.extensions["search"].index.forget_searcher()
    return app


@pytest.fixture
def content_dir(tmp_path):
    """An empty folder for answer files written by a test."""
    folder = tmp_path / "content"
    folder.mkdir()
    return folder


@pytest.fixture
def demo_copy(tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    return folder


# --- accounts and support ---------------------------------------------------------

PASSWORD = "plumb-line-7-walrus-quietly"


def csrf_token(client, url: str = "/about") -> str:
    """A CSRF token as a page would give it to this client's browser."""
    for page in (url, "/login", "/account"):  # the login page for readers, the account page once logged in
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(page).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError("no page offered a CSRF token")


def make_user(app, email: str = "reader@example.org", name: str = "Rea Der", password: str = PASSWORD, editor=False):
    from webapp.accounts import service

    with app.app_context():
        user = service.create_confirmed(db.session, email, name, password)  # as if its link was followed
        user.is_editor = editor
        db.session.commit()
        return user.id


def make_campaign(app, **fields) -> int:
    """A running campaign (goal 1,000 supporters, 30 days left) unless `fields` say otherwise."""
    import datetime as dt

    from webapp.answers.models import utcnow
    from webapp.support.models import Campaign

    values = dict(slug="keep-plumb-independent", headline="Keep Plumb independent",
                  text="Readers pay for the research, so every answer stays free.", goal_kind="supporters",
                  goal=1000, currency="USD", goal_offset=0, supporters=0, amount_cents=0,
                  deadline=utcnow() + dt.timedelta(days=30, minutes=5))
    values.update(fields)
    with app.app_context():
        campaign = Campaign(**values)
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


class Auth:
    """Log a test client in and out the way a browser does (with the form's CSRF token)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def register(self, email="reader@example.org", name="Rea Der", password=PASSWORD) -> int:
        return make_user(self.app, email, name, password)

    def login(self, email="reader@example.org", password=PASSWORD, remember=False, **extra):
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client, "/login"), **extra}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client)})


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def campaign(app) -> int:
    return make_campaign(app)
