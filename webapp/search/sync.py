"""Keeping the Whoosh index true to the database: the outbox, draining it, rebuilding, checking.

The database is the truth. A change to a question writes an outbox row in the same
transaction (webapp/search/tracking.py finds the changes); after commit the outbox is
drained into Whoosh under the index lock. The documents are read from the database
*inside* the lock, so whichever process drains last writes the latest committed state. Rows are deleted only after the index commit:
a crash in between re-applies them, which is harmless (updates are idempotent)."""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable

from flask import current_app, has_request_context
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from whoosh.index import LockError
from whoosh.util.filelock import LockBase, try_for
from whoosh.writing import CLEAR

from webapp.answers import cache as answer_cache
from webapp.search.documents import QuestionTexts, all_documents, document_of, documents_for, texts
from webapp.search.meaning import store as meaning
from webapp.search.index import MARKER, WRITE_LOCK, IndexUnavailable, SearchIndex
from webapp.search.models import SearchOutbox
from webapp.search.results import Drift, SyncResult

log = logging.getLogger(__name__)
BATCH = 500
REBUILD_MB = 512  # per indexing process


# --- writing outbox rows in the changing transaction -------------------------------------

def write_outbox(session: Session, ids: set[int]) -> None:
    """One outbox row per changed question, on the session's own connection: the same
    transaction as the change (Core, so no nested flush)."""
    session.connection().execute(insert(SearchOutbox), [{"question_id": i} for i in sorted(ids)])


def drain_after_commit(index: SearchIndex, session: Session) -> None:
    app = current_app._get_current_object() if current_app else None
    if app is None or not app.config.get("SEARCH_DRAIN_ON_COMMIT", True):
        return
    try:
        # Never a full rebuild inside someone's request: start-up or `sync` does that.
        drain(index, session.get_bind(), rebuild_missing=not has_request_context())
    except Exception:  # the rows stay in the outbox; the next drain applies them
        log.exception("search outbox drain failed; it will be retried")


# --- draining --------------------------------------------------------------------------

def _drain_batch(index: SearchIndex, engine: Engine) -> int | None:
    """Apply one batch; the number applied, 0 if the outbox is empty, None if locked."""
    ix = index.open()
    try:
        writer = ix.writer(timeout=index.lock_timeout)
    except LockError:
        return None
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(SearchOutbox.id, SearchOutbox.question_id).order_by(SearchOutbox.id).limit(BATCH)
            ).all()
            if not rows:
                writer.cancel()
                return 0
            ids = {question_id for _, question_id in rows}
            found = documents_for(session, ids, build=texts)
            for question_id in sorted(ids):
                if question_id in found:
                    writer.update_document(**document_of(found[question_id]))
                else:
                    writer.delete_by_term("id", str(question_id))
            meaning.write(session.connection(), found.values(), ids - set(found))
            writer.commit(merge=False)
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row_id for row_id, _ in rows])))
            session.commit()
            return len(ids)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise


def drain(index: SearchIndex, engine: Engine, rebuild_missing: bool = True) -> SyncResult:
    """Apply the whole outbox; a missing index is rebuilt, a busy lock leaves rows for later."""
    result = SyncResult()
    while True:
        try:
            applied = _drain_batch(index, engine)
        except IndexUnavailable:
            if index.rebuilding() or not rebuild_missing:
                result.busy = True
                return result
            rebuild(index, engine)
            result.rebuilt = True
            return result
        if applied is None:
            result.busy = True
            return result
        if applied == 0:
            return result
        result.applied += applied


# --- rebuilding --------------------------------------------------------------------------

def _fresh(index: SearchIndex):
    """An index to rebuild into: the current one if readable (and of this schema),
    else a clean new one."""
    try:
        return index.open()
    except IndexUnavailable:
        if index.path.exists():
            for child in index.path.iterdir():
                if child.name not in (MARKER, WRITE_LOCK, "README.md"):  # the lock is held: keep its file
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        return index.create()


def rebuild(index: SearchIndex, engine: Engine, procs: int = 1,
            progress: Callable[[int], None] | None = None, lock: LockBase | None = None) -> int:
    """Index every question from the database; readers keep the old index until commit.

    Under the index's write lock from before the folder is looked at (`lock`, if the
    caller took it already, else waited for here), so two processes never clear and
    fill the same folder at once."""
    if lock is None:
        lock = index.write_lock()
        if not try_for(lock.acquire, timeout=60.0, delay=0.25):
            raise LockError(f"another process is writing the search index in {index.path}")
    try:
        index.mark_rebuilding()
        ix = _fresh(index)
        with Session(engine) as session:
            # Outbox rows up to here are covered by this rebuild; later ones are not.
            high = session.scalar(select(func.max(SearchOutbox.id))) or 0
            # More memory per indexing process, fewer runs to merge at commit: 4,000
            # documents in 2 processes took 11.5 s with 512 MB against 14.3 s with the
            # default 128 MB (it is held only while rebuilding).
            # _lk=False: we hold the write lock already (the sub-writers never take it).
            writer = ix.writer(procs=procs, multisegment=procs > 1, limitmb=REBUILD_MB, _lk=False,
                               subargs={"limitmb": REBUILD_MB})
            count = 0
            batch: list[QuestionTexts] = []
            try:
                for t in all_documents(session, build=texts):
                    writer.add_document(**document_of(t))
                    batch.append(t)
                    if len(batch) == BATCH:
                        meaning.write(session.connection(), batch)
                        batch = []
                    count += 1
                    if progress:
                        progress(1)
                meaning.write(session.connection(), batch)
                writer.commit(mergetype=CLEAR)
            except BaseException:
                writer.cancel()
                raise
            session.execute(delete(SearchOutbox).where(SearchOutbox.id <= high))
            meaning.sweep(session.connection())
            session.commit()
        answer_cache.renew(engine)  # similar answers drawn from the old documents go
        return count
    finally:
        index.clear_rebuilding()
        lock.release()


def optimize(index: SearchIndex) -> None:
    """Merge all segments into one: an offline job, as it rewrites the whole index."""
    writer = index.open().writer(timeout=60.0)
    writer.commit(optimize=True)


# --- checking ----------------------------------------------------------------------------

def check(index: SearchIndex, engine: Engine) -> Drift:
    """Compare every document's version in the index with the database's."""
    drift = Drift()
    with index.searcher() as searcher:
        indexed = {fields["id"]: (fields.get("version"), fields.get("slug")) for fields in searcher.all_stored_fields()}
    with Session(engine) as session:
        for doc in all_documents(session):
            version, _slug = indexed.pop(doc["id"], (None, None))
            if version is None:
                drift.missing.append(doc["slug"])
            elif version != doc["version"]:
                drift.stale.append(doc["slug"])
    drift.extra = sorted(slug or f"id {doc_id}" for doc_id, (_v, slug) in indexed.items())
    return drift
