"""A missing or unreadable Whoosh index is rebuilt from the database, by one process.

Checked on a serving process's first request (not in create_app, which also runs for
`flask db upgrade` before there are tables), and again whenever a search finds the
index gone while serving (its folder deleted, its files damaged). Readers meanwhile
see a "search is being rebuilt" notice, never an error. The index's write lock decides
which process rebuilds: the other gunicorn workers find it taken (or the marker of a
live rebuilder) and only say so."""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from sqlalchemy import inspect
from whoosh.util.filelock import LockBase

from webapp.extensions import db
from webapp.search import sync
from webapp.search.index import SearchIndex

log = logging.getLogger(__name__)
RETRY_AFTER_FAILURE = 60.0  # seconds: a rebuild that failed (disk full, …) is not retried on every search


def _rebuild(app: Flask, index: SearchIndex, lock: LockBase) -> None:
    with app.app_context():
        try:
            count = sync.rebuild(index, db.engine, lock=lock)
            index.rebuild_failed_at = None
            log.info("search index rebuilt: %d questions", count)
        except Exception:
            index.rebuild_failed_at = time.monotonic()
            log.exception("search index rebuild failed")


def ensure_index(app: Flask, index: SearchIndex) -> threading.Thread | None:
    """Start a rebuild if the index cannot be read and nobody is rebuilding it."""
    if index.usable() or index.rebuilding():
        return None
    failed_at = index.rebuild_failed_at
    if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_FAILURE:
        return None
    with app.app_context():
        if not inspect(db.engine).has_table("question"):
            return None  # not migrated yet: nothing to index
    try:
        lock = index.try_write_lock()
    except OSError:  # the folder cannot be written: say so once a minute, not on every search
        index.rebuild_failed_at = time.monotonic()
        log.exception("search index in %s cannot be rebuilt", index.path)
        return None
    if lock is None:
        return None  # another process holds the index: it is rebuilding (or just rebuilt) it
    if index.usable():  # rebuilt by another process between our look and the lock
        lock.release()
        return None
    if not app.config["SEARCH_REBUILD_IN_BACKGROUND"]:
        _rebuild(app, index, lock)
        return None
    thread = threading.Thread(target=_rebuild, args=(app, index, lock), name="search-rebuild", daemon=True)
    thread.start()
    return thread


def register(app: Flask) -> None:
    """The engine's start-up check, on a serving process's first request."""
    checked = threading.Event()

    @app.before_request
    def _check_index_once() -> None:
        if not checked.is_set():
            checked.set()
            app.extensions["search"].start(app)
