"""Engine set-up that depends on the database: SQLite gets WAL and a busy timeout."""
from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import Integer, Table, any_, event, literal_column, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from webapp.extensions import db

DEFAULT_LOCK_TIMEOUT_MS = 5000
# Each app's engine and its settings, for DATABASE_LOCK_TIMEOUT_MS (read when a connection
# opens or a write begins, so a changed setting holds for new ones).
_settings: weakref.WeakKeyDictionary[Engine, dict] = weakref.WeakKeyDictionary()


def _sqlite_pragmas(settings):
    def on_connect(dbapi_connection, _record) -> None:
        # WAL lets readers go on while one writer writes; busy_timeout waits for the lock
        # instead of failing at once with "database is locked" (and past it, the request
        # is answered 503: webapp/site/unavailable.py).
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings['DATABASE_LOCK_TIMEOUT_MS'])}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
    return on_connect


def configure(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas(app.config))
        _settings[engine] = app.config


def advance_sequences(session, tables) -> None:
    """PostgreSQL: rows inserted with explicit ids do not move the id sequences; move
    them past the highest id, so the next ORM insert does not collide."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        if "id" in table.c and table.c.id.autoincrement:
            session.execute(text(f"select setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"coalesce((select max(id) from {table.name}), 1))"))
    session.commit()


def analyze(connection: Connection, tables: tuple[str, ...] = ()) -> None:
    """PostgreSQL: gather the planner's statistics of these tables (all, by default)
    after a bulk write. Until ANALYZE (autovacuum runs it later, or never where it is
    off), the planner guesses: right after `flask demo synth` it read the sections of 500
    questions with a parallel scan of all 4,000,000 and compiled each statement (JIT),
    and a rebuild at 1,000,000 questions went 3.6 times slower. SQLite plans by rules
    here; statistics would only make its plans differ from the tested ones."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ANALYZE " + ", ".join(tables)))


def built_on(dialect_name: str):
    """Alembic's include_object for a database of this dialect: leaves out what the
    models build only on another one (`Index(...).ddl_if(dialect=...)`), which Alembic's
    comparison does not read, so neither a migration check nor autogenerate asks for a
    PostgreSQL-only index on SQLite."""
    def include(item, _name, _type, reflected, _compare_to) -> bool:
        only = getattr(item, "_ddl_if", None)
        return reflected or only is None or only.dialect in (None, dialect_name)
    return include


def among(session, column, ids) -> ColumnElement[bool]:
    """`column` is one of these ids. On PostgreSQL one int[] constant written into the
    statement (`= ANY('{…}'::int[])`): an IN list is a bound parameter per id, which
    PostgreSQL plans and psycopg sends one by one (500 question vectors took 12 ms that
    way against 4 ms, and the links of 1,000 questions 85 ms against 15). A constant,
    not a parameter: the planner sees the ids, so it estimates their rows and can test
    them by hash, and the statement is never prepared once for all sizes. Sent as text
    cast to int[], the array was unknown until run time (array_in is not immutable):
    planned for any size, the links of 5,000 questions became a sequential scan of
    3,000,000 links testing each against the list one by one, for minutes (issue 18).
    SQLite has no arrays: IN."""
    if session.get_bind().dialect.name == "postgresql":
        listed = ",".join(str(int(i)) for i in ids)  # integers only: nothing of a reader's reaches the text
        return column == any_(literal_column(f"'{{{listed}}}'::int[]", type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def dialect_insert(connection: Connection, table: Table):
    """An INSERT that can say ON CONFLICT (insert-or-nothing, upsert): SQLite's and
    PostgreSQL's spell it alike, but each dialect has its own construct."""
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the write lock from its first statement.

    On SQLite a deferred transaction that reads and then writes fails at once with
    "database is locked" when another writer got in between; `BEGIN IMMEDIATE` takes the
    lock up front and waits up to the busy timeout for it instead. (The driver's own
    implicit BEGIN is skipped: it only begins before a write, and we already did.)
    PostgreSQL locks the rows a statement changes, and would wait for them forever:
    `lock_timeout` bounds the wait as the busy timeout does on SQLite. Past either, the
    driver's OperationalError reaches the caller and nothing was written."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            timeout = int(_settings[engine]["DATABASE_LOCK_TIMEOUT_MS"] if engine in _settings
                          else DEFAULT_LOCK_TIMEOUT_MS)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout}")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


@contextmanager
def local_setting(session, name: str, value: str) -> Iterator[None]:
    """PostgreSQL's setting `name` at `value` for the statements inside (nothing on
    SQLite). SET LOCAL lasts until the transaction ends, so it is reset on the way out."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text(f"SET LOCAL {name} = {value}"))
    try:
        yield
    finally:
        session.execute(text(f"RESET {name}"))
