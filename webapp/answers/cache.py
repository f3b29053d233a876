"""Answer bodies rendered once per content version, kept in a cache every worker shares.

What an answer page shows apart from the reader's own parts (the path, the counts, the
request widget, the supporter ask) changes only when content changes: the question, its
sections, sources and category, its related links, and the titles, status, dates and
categories of the questions those lists name. So the view renders those parts once and
keeps them under a key made of

- the content version: one row (`ContentVersion`) whose random token is written again,
  in the same transaction, by every change to the content tables. Every app server reads
  it from the database, so no server can serve a body older than the last committed
  edit, wherever that edit was made. A single token rather than one per question: the
  related lists show other questions, so one question's edit may change many pages, and
  content changes come in batches (`flask content import`, `flask graph suggest`), not
  per request. Reading it is one primary-key lookup per page;
- the question's id, and what differs between readers of the same version: an editor
  sees which related links were suggested automatically; the "may be outdated" notice
  depends on today; absolute URLs depend on the site's address.

The token is read before anything is rendered and again before a body is stored: a body
goes into the cache only if no edit committed while it was rendered, so a key never
holds anything older than its version (each statement sees the latest commit: on
PostgreSQL at READ COMMITTED, and on SQLite, where a read opens no transaction).

The key also carries the release (`release()`: the templates and the code, fingerprinted
at start-up), since Redis outlives a deployment. A data migration that changes content
with raw SQL must write a new token too (docs/deploy.md).

Changes are seen through the session: every flush of a content model, and every insert,
update or delete statement run through `Session.execute` on a content table (the
importer's and `flask demo synth`'s bulk writes). Raw SQL text is not seen, as it is not
by search tracking.

The cache (Flask-Caching, `webapp/extensions.py`) is Redis when REDIS_URL is set, and a
per-process dictionary otherwise. A cache that fails is skipped: the page renders as if
it were empty, the failure is logged once until the cache works again, and the cache is
not asked again for SKIP_AFTER_FAILURE_SECONDS."""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import Engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from webapp.answers.models import (
    CONTENT_VERSION_ID,
    Category,
    ContentVersion,
    Question,
    RelatedLink,
    Section,
    Source,
)
from webapp.clock import utcnow
from webapp.extensions import cache

log = logging.getLogger(__name__)

CONTENT_MODELS = (Question, Section, Source, Category, RelatedLink)
CONTENT_TABLES = frozenset(model.__tablename__ for model in CONTENT_MODELS)
CHANGED = "content_changed"  # session.info: this transaction changed content

# After a failure the cache is left alone for a while: a Redis that hangs would otherwise
# cost every page its timeout, several times over.
SKIP_AFTER_FAILURE_SECONDS = 30.0


@dataclass
class Health:
    """How the cache has been doing, for this app in this process."""

    failing: bool = False  # it failed last time (logged once, until it works again)
    skip_until: float = 0.0  # time.monotonic() until which it is not asked


def _health() -> Health:
    return current_app.extensions["answer_cache_health"]


# --- the version -----------------------------------------------------------------------------

def current_version(session: Session) -> str | None:
    """The content version every server sees; None before any content was ever written."""
    return session.scalar(select(ContentVersion.token).where(ContentVersion.id == CONTENT_VERSION_ID))


def _touches_content(session: Session) -> bool:
    return any(isinstance(obj, CONTENT_MODELS) for obj in (*session.new, *session.dirty, *session.deleted))


def _after_flush(session: Session, _context) -> None:
    if not session.info.get(CHANGED) and _touches_content(session):
        session.info[CHANGED] = True


def _do_orm_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CONTENT_TABLES:
            state.session.info[CHANGED] = True


def _write_token(connection) -> None:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    values = dict(token=secrets.token_hex(16), changed_at=utcnow())
    # An upsert: a database made by create_all (tests, benches) has no row until its first write.
    connection.execute(insert(ContentVersion).values(id=CONTENT_VERSION_ID, **values)
                       .on_conflict_do_update(index_elements=["id"], set_=values))


def _before_commit(session: Session) -> None:
    """The new token goes in with the change itself: written at commit, so it is written
    once per transaction and holds the row's lock only for a moment. The pending changes
    are flushed first, so the version row is always the last lock a transaction takes:
    taken before content rows another writer holds, it would deadlock with that writer."""
    session.flush()
    if not (session.info.get(CHANGED) or _touches_content(session)):
        return
    _write_token(session.connection())


def renew(bind: Engine) -> None:
    """A new content version without a content change: for what pages show from elsewhere
    (search's similar answers, after its documents were rebuilt), rendered again."""
    with bind.begin() as connection:
        _write_token(connection)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost: committed, rolled back or closed
        session.info.pop(CHANGED, None)


def listen(session_class: type[Session] = Session) -> None:
    """Every session (the app's, and the plain ones commands open) keeps the version."""
    for name, handler in (("after_flush", _after_flush), ("do_orm_execute", _do_orm_execute),
                          ("before_commit", _before_commit), ("after_transaction_end", _after_transaction_end)):
        if not event.contains(session_class, name, handler):
            event.listen(session_class, name, handler)


def register(app: Flask) -> None:
    settings = {}
    if app.config["CACHE_TYPE"].lower().endswith("rediscache"):
        # A Redis that hangs must cost a page a moment, not a worker its timeout.
        timeout = app.config["CACHE_REDIS_TIMEOUT"]
        settings["CACHE_OPTIONS"] = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
                                     **(app.config.get("CACHE_OPTIONS") or {})}
    cache.init_app(app, config=settings or None)
    app.extensions["answer_release"] = release()
    app.extensions["answer_cache_health"] = Health()
    listen()


def release() -> str:
    """What renders a body, fingerprinted: the templates and the app's code. In the key,
    so a deployment that changes how bodies are drawn never serves bodies an older
    release drew (Redis outlives a deployment; a rolling one runs both side by side)."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted([*package.rglob("*.py"), *(package.parent / "templates").rglob("*.html")]):
        digest.update(path.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- the cache ------------------------------------------------------------------------------

def _failed(error: Exception) -> None:
    health = _health()
    health.skip_until = time.monotonic() + SKIP_AFTER_FAILURE_SECONDS
    if not health.failing:
        health.failing = True
        cause = str(error).strip().splitlines()
        log.error("answer cache (%s) failed; pages render without it (logged once until it works again): %s: %s",
                  current_app.config.get("CACHE_TYPE"), type(error).__name__, cause[0] if cause else "")


def _worked() -> None:
    health = _health()
    if health.failing:
        health.failing = False
        log.info("answer cache (%s) works again", current_app.config.get("CACHE_TYPE"))


def _get(key: str):
    if time.monotonic() < _health().skip_until:
        return None
    try:
        found = cache.get(key)
    except Exception as error:  # Redis down, slow or refusing: render without it
        _failed(error)
        return None
    _worked()
    return found


def _set(key: str, value, timeout: int | None = None) -> None:
    if time.monotonic() < _health().skip_until:
        return
    try:
        cache.set(key, value, timeout=timeout)
    except Exception as error:
        _failed(error)
    else:
        _worked()


def remembered(key: str, seconds: int, compute: Callable):
    """`compute()`, kept `seconds` under `key` whatever the content version (for lists
    that follow reading figures, such as the desk's), through the same failure handling:
    a cache that fails is left alone for a while and logged once."""
    if seconds <= 0:
        return compute()
    full_key = f"kept:{current_app.extensions['answer_release']}:{key}"
    found = _get(full_key)
    if found is None:
        found = compute()
        _set(full_key, found, seconds)
    return found


def kept(session: Session, version: str | None, key: str, render: Callable[[], dict[str, str]],
         settled: Callable[[], bool] = lambda: True, seconds: int | None = None) -> dict[str, str]:
    """The rendered parts under `key` at this content version, or `render()` now, kept
    for the next reader (for `seconds`, or the cache's default) unless content changed
    meanwhile, what the render read besides the database had not caught up (`settled`),
    or there is no version yet."""
    if version is None:
        return render()
    full_key = f"answer:{current_app.extensions['answer_release']}:{version}:{key}"
    found = _get(full_key)
    if found is not None:
        return found
    # Asked before rendering (an index that catches up during the render may have been
    # read before it did) and after (one found unreadable while rendering starts its
    # rebuild, and what was read from it is not kept).
    keep = settled()
    rendered = render()
    if keep and settled() and current_version(session) == version:
        _set(full_key, rendered, seconds)
    return rendered
