"""The Whoosh engine: an index in a folder on this machine, kept by an outbox.

One machine only: every app server would have its own folder, and a change is drained
into the index of the server that committed it. Start-up warns when it is used with
PostgreSQL, where more than one app server is likely."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search import startup, sync, whoosh_search
from webapp.search.documents import document
from webapp.search.index import IndexUnavailable, SearchIndex
from webapp.search.query import ReaderQuery
from webapp.search.results import Drift, Hit, SearchPage, SyncResult

log = logging.getLogger(__name__)


class WhooshEngine:
    name = "whoosh"

    def __init__(self, app: Flask):
        self.index = SearchIndex(app.config["SEARCH_INDEX_DIR"], app.config["SEARCH_LOCK_TIMEOUT"])

    def changed(self, session: Session, ids: set[int], already: frozenset[int]) -> None:
        if new := ids - already:
            sync.write_outbox(session, new)

    def committed(self, session: Session) -> None:
        sync.drain_after_commit(self.index, session)

    def search(self, session: Session, query: ReaderQuery, **choices) -> SearchPage:
        page = whoosh_search.search(self.index, session, query, **choices)
        if page.unavailable:
            # The index went while serving (its folder deleted, its files damaged): the
            # start-up check again, which rebuilds in the background (or here, in tests).
            startup.ensure_index(current_app._get_current_object(), self.index)
            if self.index.usable():
                page = whoosh_search.search(self.index, session, query, **choices)
        return page

    def ranked(self, session: Session, query: ReaderQuery, *, category: str | None = None,
               status: str | None = None, limit: int) -> list[int] | None:
        try:
            return whoosh_search.ranked(self.index, query, category=category, status=status, limit=limit)
        except IndexUnavailable:
            return None  # the caller searches as before, which rebuilds and says so

    def hits_for(self, session: Session, query: ReaderQuery, ids: list[int], marked: bool = True) -> dict[int, Hit]:
        try:
            return whoosh_search.hits_for(self.index, query, ids, marked)
        except IndexUnavailable:
            return {}

    def suggestion(self, session: Session, query: ReaderQuery) -> str | None:
        try:
            return whoosh_search.suggestion(self.index, query)
        except IndexUnavailable:
            return None

    def document_counts(self, session: Session, words: list[str]) -> dict[str, int]:
        try:
            return whoosh_search.document_counts(self.index, words)
        except IndexUnavailable:
            return dict.fromkeys(words, 0)

    def similar_answered(self, session: Session, question_id: int, excluded: set[int], wanted: int) -> list[int]:
        question = session.scalar(select(Question).where(Question.id == question_id))
        if question is None or wanted <= 0:
            return []
        text = document(question)["content"]
        return whoosh_search.similar_answered(self.index, question_id, text, excluded, wanted)

    def rebuilding(self) -> bool:
        return self.index.rebuilding()

    def start(self, app: Flask) -> None:
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            log.warning("search: the Whoosh index in %s is on this machine only; with more than one app "
                        "server, each searches its own copy. Set SEARCH_ENGINE=postgres.", self.index.path)
        startup.ensure_index(app, self.index)

    def sync(self) -> SyncResult:
        return sync.drain(self.index, db.engine)

    def rebuild(self, procs: int = 1, progress: Callable[[int], None] | None = None) -> int:
        return sync.rebuild(self.index, db.engine, procs=procs, progress=progress)

    def check(self) -> Drift:
        return sync.check(self.index, db.engine)

    def optimize(self) -> None:
        sync.optimize(self.index)
