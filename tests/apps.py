"""A fresh app and database for a test (SQLite in its folder, or TEST_DATABASE_URL),
and the demo content imported into it."""
from __future__ import annotations

import os
from pathlib import Path

from webapp import create_app
from webapp.content.importer import import_folder
from webapp.extensions import db, limiter
from webapp.graph import ranking, suggestions
from webapp.search.postgres import schema as search_tables

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "content" / "demo"


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
        # Each search reads the vectors other processes wrote (tests/test_search_meaning.py
        # checks the interval itself).
        "SEARCH_MEANING_REFRESH": 0.0,
        # Reading figures ("went on to read") show at once; tests/test_answer_cache.py sets its own.
        "ANSWER_SHARED_SECONDS": 0,
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


def import_demo(app) -> None:
    """What `flask content import content/demo` does: import, suggest related questions, rank."""
    with app.app_context():
        report = import_folder(db.session, DEMO)
        assert not report.rejected, report.rejected
        suggestions.refresh(db.session)
        ranking.compute(db.session)
        db.session.commit()
