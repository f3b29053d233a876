"""Engine set-up that depends on the database: SQLite gets WAL and a busy timeout."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from webapp.extensions import db

BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while one writer writes; busy_timeout waits for the lock
    # instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


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


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the write lock from its first statement.

    On SQLite a deferred transaction that reads and then writes fails at once with
    "database is locked" when another writer got in between; `BEGIN IMMEDIATE` takes the
    lock up front and waits up to the busy timeout for it instead. (The driver's own
    implicit BEGIN is skipped: it only begins before a write, and we already did.)
    PostgreSQL needs nothing: it locks the rows a statement changes."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
