"""Fixtures: a fresh app and database per test, the demo content, and logging in.
The helpers they use live in tests/apps.py, tests/readers.py and tests/pledging.py.

Set TEST_DATABASE_URL to run the same tests against PostgreSQL (`make test` does
when a server answers on 127.0.0.1:5432). Under pytest -n each worker has its own
databases (tests/workers.py)."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import workers

workers.separate_services()  # under pytest -n: this worker's own database and Redis database

from tests.apps import DEMO, all_tables, drop, import_demo, make_app
from tests.pledging import make_campaign
from tests.readers import Auth
from webapp.database import advance_sequences
from webapp.extensions import db
from webapp.search.engine import engine_name
from webapp.search.postgres.engine import RANK_INDEX, RANK_INDEX_ON


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
            # The search documents' RUM index is built once after them: 25 ms, where
            # keeping it up to date row by row took 130 ms a test (as a rebuild does).
            db.session.execute(text(f"DROP INDEX {RANK_INDEX}"))
            for table in all_tables():
                if demo_template.rows[table.name]:
                    db.session.execute(table.insert(), demo_template.rows[table.name])
            db.session.execute(text(f"CREATE INDEX {RANK_INDEX} ON {RANK_INDEX_ON}"))
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


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def campaign(app) -> int:
    return make_campaign(app)
