"""The PostgreSQL engine: each question's document lives in `search_document`, written
in the same transaction as the change, so every app server on the database searches
the same documents the moment the change commits. No outbox, no files.

Rules that keep a document true to its question:
- A flush that touched a question rewrites its document before the transaction ends
  (webapp/search/tracking.py finds the questions).
- The document rows are locked (in id order) before the question is read: a second
  transaction changing the same question waits for the first to commit, then reads
  its committed text, so the last writer writes the latest state.
- A rebuild does the same a batch at a time, one short transaction per batch.
"""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from webapp.answers import cache as answer_cache
from webapp.database import analyze
from webapp.extensions import db
from webapp.search.documents import QuestionTexts, all_documents, documents_for, texts, version
from webapp.search.meaning import store as meaning
from webapp.search.postgres import querying
from webapp.search.postgres.querying import fold
from webapp.search.postgres.schema import CONFIG
from webapp.search.query import WORD, ReaderQuery
from webapp.search.results import Drift, Hit, SearchPage, SyncResult

log = logging.getLogger(__name__)
REBUILD_BATCH = 500
READ_TABLES = ("question", "section", "source", "category", "question_meaning")  # what a rebuild reads
MARKERS = re.compile("[\x02\x03\x04]")  # ts_headline's marks and delimiter; never stored in a document

UPSERT = text(f"""
INSERT INTO search_document (question_id, slug, question, summary, category, category_name, status,
                             checked_on, cites, verdict, words, version, tsv)
VALUES (:id, :slug, :question, :summary, :category, :category_name, :status, :checked_on, :cites, :verdict,
        :words, :version,
        setweight(to_tsvector('{CONFIG}', :question), 'A') ||
        setweight(to_tsvector('{CONFIG}', :summary || ' ' || :headings), 'B') ||
        setweight(to_tsvector('{CONFIG}', :bodies), 'C'))
ON CONFLICT (question_id) DO UPDATE SET
  slug = EXCLUDED.slug, question = EXCLUDED.question, summary = EXCLUDED.summary,
  category = EXCLUDED.category, category_name = EXCLUDED.category_name, status = EXCLUDED.status,
  checked_on = EXCLUDED.checked_on, cites = EXCLUDED.cites, verdict = EXCLUDED.verdict, words = EXCLUDED.words,
  version = EXCLUDED.version, tsv = EXCLUDED.tsv
""")
LOCK = text("SELECT question_id FROM search_document WHERE question_id = ANY(:ids) ORDER BY question_id FOR UPDATE")
ALL_WORDS = text("INSERT INTO search_word (word) SELECT DISTINCT unnest(words) FROM search_document "
                 "ON CONFLICT DO NOTHING")
REMOVE = text("DELETE FROM search_document WHERE question_id = ANY(:ids)")
ADD_WORDS = text("INSERT INTO search_word (word) SELECT w FROM unnest(CAST(:words AS text[])) AS w ORDER BY w "
                 "ON CONFLICT DO NOTHING")


def spelling_words(t: QuestionTexts) -> list[str]:
    return sorted({fold(w) for w in WORD.findall(t.spell)})


def row(t: QuestionTexts) -> dict:
    values = {
        "id": t.id, "slug": t.slug, "question": MARKERS.sub(" ", t.question),
        "summary": MARKERS.sub(" ", t.summary), "headings": t.headings, "bodies": t.bodies,
        "category": t.category, "category_name": t.category_name, "status": t.status,
        "checked_on": t.checked_on, "cites": list(t.cites), "words": spelling_words(t),
    }
    values["version"] = with_verdict(version(sorted((k, v) for k, v in values.items() if k != "id")), t.verdict)
    values["verdict"] = t.verdict
    return values


def with_verdict(digest: str, verdict: str | None) -> str:
    """A document's version with its verdict chained onto the digest of the rest.

    Chained, not digested with the rest, so that migration 0015 (which added the
    verdict) wrote the same version in SQL, `sha256(version || ':' || verdict)`, and no
    document turned stale; a document without a verdict keeps the digest of the rest."""
    return digest if verdict is None else hashlib.sha256(f"{digest}:{verdict}".encode()).hexdigest()


def write(connection: Connection, ids: Iterable[int], words: bool = True) -> int:
    """Rewrite the documents of these questions (removing those of deleted ones) in the
    connection's transaction; the number written. `words`: add their words to the
    corpus's (a rebuild adds them all at the end instead: transactions adding the same
    new word wait for each other)."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    connection.execute(LOCK, {"ids": wanted})
    # A session of its own on the same connection and transaction: it reads what is
    # committed and flushed now, not objects the caller's session holds in memory.
    with Session(bind=connection) as reader:
        found = list(documents_for(reader, wanted, build=texts).values())
    rows = [row(t) for t in found]
    gone = sorted(set(wanted) - {r["id"] for r in rows})
    meaning.write(connection, found, gone)
    if rows:
        connection.execute(UPSERT, rows)
        if words:
            connection.execute(ADD_WORDS, {"words": sorted({w for r in rows for w in r["words"]})})
    if gone:
        connection.execute(REMOVE, {"ids": gone})
    return len(rows)


RANK_INDEX = "search_document_tsv"
RANK_INDEX_ON = "search_document USING rum (tsv rum_tsvector_ops)"
CREATE_RANK_INDEX = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {RANK_INDEX} ON {RANK_INDEX_ON}"
_worker_engine = None


def _start_worker(url: str) -> None:
    global _worker_engine
    _worker_engine = create_engine(url)


def _write_batch(batch: list[int]) -> int:
    with _worker_engine.begin() as connection:
        return write(connection, batch, words=False)


def _write_batches(batches: list[list[int]], procs: int, progress: Callable[[int], None] | None) -> int:
    """Write each batch in its own transaction; with procs > 1, in that many processes
    (each with its own connection), so building documents in Python and PostgreSQL's
    work on them overlap."""
    count = 0
    if procs <= 1 or len(batches) < 2:
        for batch in batches:
            with db.engine.begin() as connection:
                count += write(connection, batch, words=False)
            if progress:
                progress(len(batch))
        return count
    url = db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    with ProcessPoolExecutor(procs, mp_context=context, initializer=_start_worker, initargs=(url,)) as pool:
        for batch, written in zip(batches, pool.map(_write_batch, batches), strict=True):
            count += written
            if progress:
                progress(len(batch))
    return count


class PostgresEngine:
    name = "postgres"

    def __init__(self, app: Flask):
        self._common_words = querying.CommonWords()

    # --- keeping documents true ---------------------------------------------------------------
    def changed(self, session: Session, ids: set[int], already: frozenset[int]) -> None:
        # Every flush rewrites what it touched: a later flush may change what an earlier one wrote.
        write(session.connection(), ids)

    def committed(self, session: Session) -> None:
        pass  # the documents committed with the change

    # --- reading ----------------------------------------------------------------------------------
    def search(self, session: Session, query: ReaderQuery, **choices) -> SearchPage:
        return querying.search(session, self._common_words, query, **choices)

    def ranked(self, session: Session, query: ReaderQuery, *, category: str | None = None,
               status: str | None = None, limit: int) -> list[int] | None:
        return querying.ranked(session, self._common_words, query, category=category, status=status,
                               limit=limit)

    def hits_for(self, session: Session, query: ReaderQuery, ids: list[int], marked: bool = True) -> dict[int, Hit]:
        return querying.hits_for(session, query, ids, marked)

    def suggestion(self, session: Session, query: ReaderQuery) -> str | None:
        return querying.suggestion(session, query)

    def document_counts(self, session: Session, words: list[str]) -> dict[str, int]:
        return querying.document_counts(session, self._common_words, words)

    def similar_answered(self, session: Session, question_id: int, excluded: set[int], wanted: int) -> list[int]:
        return querying.similar_answered(session, self._common_words, question_id, excluded, wanted)

    def rebuilding(self) -> bool:
        """True while a rebuild has the ranking index down: results stay right, but slower."""
        return db.session.scalar(text(f"SELECT to_regclass('{RANK_INDEX}') IS NULL")) is True

    # --- operating --------------------------------------------------------------------------------
    def start(self, app: Flask) -> None:
        pass

    def sync(self) -> SyncResult:
        return SyncResult()  # nothing waits: documents are written with the change

    def rebuild(self, procs: int = 1, progress: Callable[[int], None] | None = None) -> int:
        """Rewrite every document, a batch to a transaction, in `procs` processes.

        The RUM index is dropped first and built again at the end: kept, every rewritten
        row costs an index insertion, 4x slower in all (10,000 documents: 78 s against
        17 s + 3 s to build the index). Meanwhile searches still find everything, more
        slowly, and say that search is being rebuilt; edits go on as usual."""
        started = time.monotonic()
        # Dropping and building the index wait for every open transaction on the table:
        # the caller's own must not be one of them.
        db.session.close()
        with Session(db.engine) as session:
            ids = list(session.scalars(text("SELECT id FROM question ORDER BY id")))
            stray = list(session.scalars(text(
                "SELECT question_id FROM search_document d WHERE NOT EXISTS "
                "(SELECT 1 FROM question q WHERE q.id = d.question_id)")))
        batches = [ids[start : start + REBUILD_BATCH] for start in range(0, len(ids), REBUILD_BATCH)]
        autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as connection:
            connection.execute(text(f"DROP INDEX IF EXISTS {RANK_INDEX}"))
            # A rebuild often follows a bulk load (a restore, `flask demo synth`).
            analyze(connection, READ_TABLES)
        try:
            count = _write_batches(batches, procs, progress)
            with db.engine.begin() as connection:
                if stray:
                    connection.execute(REMOVE, {"ids": stray})
                connection.execute(ALL_WORDS)
                meaning.sweep(connection)
        finally:
            with autocommit.connect() as connection:
                # CONCURRENTLY: edits committing meanwhile are not held up by the build.
                connection.execute(text(CREATE_RANK_INDEX))
                connection.execute(text("ANALYZE search_document"))
        answer_cache.renew(db.engine)  # similar answers drawn from the old documents go
        log.info("search documents rebuilt: %d in %.1f s", count, time.monotonic() - started)
        return count

    def check(self) -> Drift:
        drift = Drift()
        with Session(db.engine) as session:
            stored = {qid: (v, slug) for qid, v, slug in session.execute(
                text("SELECT question_id, version, slug FROM search_document"))}
            for t in all_documents(session, build=texts):
                found, _slug = stored.pop(t.id, (None, None))
                if found is None:
                    drift.missing.append(t.slug)
                elif found != row(t)["version"]:
                    drift.stale.append(t.slug)
        drift.extra = sorted(slug or f"id {qid}" for qid, (_v, slug) in stored.items())
        return drift

    def optimize(self) -> None:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE search_document"))
            connection.execute(text("VACUUM ANALYZE search_word"))
