"""At start-up, a missing or unreadable Whoosh index is rebuilt from the database.

Checked on a serving process's first request (not in create_app, which also runs for
`flask db upgrade` before there are tables). Readers meanwhile see a "search is being
rebuilt" notice, never an error."""
from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import inspect

from webapp.extensions import db
from webapp.search import sync
from webapp.search.index import SearchIndex

log = logging.getLogger(__name__)


def _rebuild(app: Flask, index: SearchIndex) -> None:
    with app.app_context():
        try:
            count = sync.rebuild(index, db.engine)
            log.info("search index rebuilt: %d questions", count)
        except Exception:
            log.exception("search index rebuild failed")


def ensure_index(app: Flask, index: SearchIndex) -> threading.Thread | None:
    """Start a rebuild if the index cannot be read and nobody is rebuilding it."""
    if index.usable() or index.rebuilding():
        return None
    with app.app_context():
        if not inspect(db.engine).has_table("question"):
            return None  # not migrated yet: nothing to index
    index.mark_rebuilding()
    if not app.config["SEARCH_REBUILD_IN_BACKGROUND"]:
        _rebuild(app, index)
        return None
    thread = threading.Thread(target=_rebuild, args=(app, index), name="search-rebuild", daemon=True)
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
