"""The search seam: one interface, two engines, chosen by settings.

`whoosh` keeps an index in a folder on this machine (the embedded default: one
machine, nothing else to run). `postgres` keeps each question's document in the
database itself, written in the same transaction as the change, so any number of app
servers on one PostgreSQL search the same, current documents. `SEARCH_ENGINE` chooses;
by default `postgres` when the database is PostgreSQL, `whoosh` otherwise.

Everything above this seam (routes, templates, gaps, suggestions, unanswered pages,
"how are these connected") calls `webapp.search.service` and never an engine."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flask import Flask
from sqlalchemy.orm import Session

from webapp.search.query import ReaderQuery
from webapp.search.results import Drift, Hit, SearchPage, SyncResult

ENGINES = ("whoosh", "postgres")


class SearchEngine(Protocol):
    name: str

    # --- keeping documents true (webapp/search/tracking.py calls these) ---------------------
    def changed(self, session: Session, ids: set[int], already: frozenset[int]) -> None:
        """These questions changed in the session's open transaction (`already` were
        reported earlier in it); record them in that transaction."""

    def committed(self, session: Session) -> None:
        """The transaction that changed questions has committed."""

    # --- reading ----------------------------------------------------------------------------
    def search(self, session: Session, query: ReaderQuery, *, category: str | None = None,
               status: str | None = None, sort: str = "relevance", page: int = 1, counts: bool = True,
               hits: bool = True) -> SearchPage:
        """A page of ranked hits with snippets, counts by category and status, and a
        corrected query where words were unknown. Without `counts`: the hits and the
        correction only, as fast as the engine can (results first); without `hits`:
        the total and the facets only."""

    def ranked(self, session: Session, query: ReaderQuery, *, category: str | None = None,
               status: str | None = None, limit: int) -> list[int] | None:
        """Ids of the best `limit` matches of the words, operators and filters, in the
        order `search` ranks them (hybrid search fuses them with the nearest by
        meaning); None if the engine cannot search now (then call `search`)."""

    def hits_for(self, session: Session, query: ReaderQuery, ids: list[int], marked: bool = True) -> dict[int, Hit]:
        """These questions as hits (by id), leaving out those the query's operators do
        not allow; each marked where the words match, and `by_meaning` where none do.
        Not `marked`: for deciding what to show, not showing it (the engine may leave the
        texts out)."""

    def suggestion(self, session: Session, query: ReaderQuery) -> str | None:
        """The corrected query `search` would offer, alone."""

    def document_counts(self, session: Session, words: list[str]) -> dict[str, int]:
        """About how many documents hold each of these words, as cheaply as the engine
        can tell (an estimate, not a count); 0 for a word it does not index."""

    def similar_answered(self, session: Session, question_id: int, excluded: set[int], wanted: int) -> list[int]:
        """Ids of up to `wanted` answered questions most like this one, best first."""

    def rebuilding(self) -> bool:
        """True while a rebuild runs and results may be incomplete."""

    # --- operating --------------------------------------------------------------------------
    def start(self, app: Flask) -> None:
        """Called on a serving process's first request."""

    def sync(self) -> SyncResult:
        """Apply whatever changes are still waiting."""

    def rebuild(self, procs: int = 1, progress: Callable[[int], None] | None = None) -> int:
        """Re-index every question from the database; the number indexed."""

    def check(self) -> Drift:
        """Documents missing, extra or stale compared with the database."""

    def optimize(self) -> None:
        """Compact the engine's storage (offline work)."""


def engine_name(app: Flask) -> str:
    chosen = (app.config.get("SEARCH_ENGINE") or "").strip().lower()
    if not chosen:
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        chosen = "postgres" if uri.startswith("postgresql") else "whoosh"
    if chosen not in ENGINES:
        raise RuntimeError(f"SEARCH_ENGINE must be one of {', '.join(ENGINES)}, not {chosen!r}")
    return chosen


def create(app: Flask) -> SearchEngine:
    name = engine_name(app)
    if name == "postgres":
        from webapp.search.postgres.engine import PostgresEngine

        return PostgresEngine(app)
    from webapp.search.whoosh_engine import WhooshEngine

    return WhooshEngine(app)
