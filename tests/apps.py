"""A fresh app and database for a test (SQLite in its folder, or TEST_DATABASE_URL),
and the demo content imported into it."""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.orm import Session

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
        _empty_tables()
    return app


def drop(app) -> None:
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "postgresql":  # PostgreSQL: the next make_app empties them
            db.drop_all()
        db.engine.dispose()


# PostgreSQL: the schema this process last made, by database. Emptying its tables
# (DELETE, and every id sequence back to 1) takes 10-20 ms where dropping and making
# them again took 200-500 ms a test, most of the PostgreSQL run's time (TRUNCATE took
# 250 ms: it makes every table's files anew). A test that changed the schema (a
# migration run, a dropped index) changes the fingerprint, and the next app gets new
# tables.
_made_schema: dict[str, str] = {}

SCHEMA_FINGERPRINT = text("""
    select md5(coalesce(string_agg(item, ',' order by item), '')) from (
      select c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
             || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') as item
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
       where n.nspname = current_schema() and c.relkind in ('r', 'p')
      union all
      select pg_get_indexdef(i.indexrelid) from pg_index i
        join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = current_schema()
      union all
      select conrelid::regclass || ' ' || pg_get_constraintdef(oid) from pg_constraint
       where connamespace = (select oid from pg_namespace where nspname = current_schema())
      union all
      select tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid
        join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = current_schema() and not t.tgisinternal
    ) as schema""")

RESTART_SEQUENCES = text("""
    select setval(c.oid, 1, false) from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'S' and n.nspname = current_schema()""")


def _empty_tables() -> None:
    """The models' tables, made afresh and empty (the shared PostgreSQL database may hold
    the last test's)."""
    url = db.engine.url.render_as_string(hide_password=False)
    if db.engine.dialect.name == "postgresql" and _made_schema.get(url) == db.session.scalar(SCHEMA_FINGERPRINT):
        db.session.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in reversed(all_tables()))))
        db.session.execute(RESTART_SEQUENCES).all()
        db.session.commit()
        return
    db.session.remove()
    db.drop_all()
    db.create_all()
    if db.engine.dialect.name == "postgresql":
        _made_schema[url] = db.session.scalar(SCHEMA_FINGERPRINT)
        db.session.commit()


def import_demo(app) -> None:
    """What `flask content import content/demo` does: import, suggest related questions, rank."""
    with app.app_context():
        report = import_folder(db.session, DEMO)
        assert not report.rejected, report.rejected
        suggestions.refresh(db.session)
        ranking.compute(db.session)
        db.session.commit()


def query_plan(sql: str, no_sort: bool = False, **values) -> str:
    """How the database would run `sql` at scale: on PostgreSQL with sequential scans
    off (a test's few rows would be read whole anyway), and sorts too if `no_sort` (a few
    rows are sorted cheaper than read in order; a million are not); on SQLite its query
    plan."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        if no_sort:
            db.session.execute(text("SET LOCAL enable_sort = off"))
        lines = db.session.scalars(text("EXPLAIN " + sql), values)
    else:
        lines = (row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql), values))
    found = "\n".join(lines)
    db.session.rollback()
    return found


def while_first_holds(first: Session, second_write: Callable[[], None]) -> None:
    """`second_write` in a thread while `first` holds what it flushed (a row's lock on
    PostgreSQL, the database on SQLite); then `first` commits and the second goes on."""
    other = threading.Thread(target=second_write)
    other.start()
    other.join(0.3)
    first.commit()
    other.join(30)


@contextmanager
def statements_sent(app, only: re.Pattern | None = None):
    """The SQL statements the app sends to its database while the block runs, as text
    (those `only` finds, if given)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if only is None or only.search(statement):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
