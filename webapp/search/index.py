"""The Whoosh index on disk: opening it, one shared searcher per thread, locked writers.

FileStorage without mmap opens in under a millisecond at 100,000 documents, where the
default storage costs ~400 ms and ~1 GB of address space per new searcher."""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, Index
from whoosh.searching import Searcher
from whoosh.util.filelock import LockBase

from webapp.search.schema import make_schema

MARKER = "REBUILDING"
WRITE_LOCK = "MAIN_WRITELOCK"  # the file Whoosh's own writers lock (index name "MAIN")
SCHEMA_FIELDS = sorted(make_schema().names())


class IndexUnavailable(RuntimeError):
    """The index is missing or cannot be read; it must be rebuilt from the database."""


class SearchIndex:
    def __init__(self, path: str | Path, lock_timeout: float = 2.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self.rebuild_failed_at: float | None = None  # time.monotonic() of this process's last failed rebuild

    # --- opening -----------------------------------------------------------------------
    def _storage(self) -> FileStorage:
        return FileStorage(str(self.path), supports_mmap=False)

    def open(self) -> Index:
        try:
            ix = self._storage().open_index()
        except (EmptyIndexError, FileNotFoundError):
            raise IndexUnavailable(f"no search index in {self.path}") from None
        except Exception as error:  # a truncated or corrupted TOC, a bad pickle, …
            raise IndexUnavailable(f"the search index in {self.path} cannot be read: {error!r}") from None
        if sorted(ix.schema.names()) != SCHEMA_FIELDS:
            # Written by an older version of Plumb: rebuild rather than search it wrongly.
            raise IndexUnavailable(f"the search index in {self.path} has an older schema")
        return ix

    def create(self) -> Index:
        self.path.mkdir(parents=True, exist_ok=True)
        return self._storage().create_index(make_schema())

    def usable(self) -> bool:
        try:
            with self.searcher() as searcher:
                searcher.doc_count()
            return True
        except IndexUnavailable:
            return False

    # --- reading -------------------------------------------------------------------------
    @contextlib.contextmanager
    def searcher(self):
        """The thread's searcher, reopened if the index changed since it was opened.

        Not Searcher.refresh(): after a rebuild (a CLEAR commit) it was seen to keep the
        old segments' readers as well (101 documents for 50). Opening is cheap here."""
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        try:
            if searcher is not None and not searcher.up_to_date():
                searcher.close()
                searcher = None
            if searcher is None:
                searcher = self.open().searcher()
        except IndexUnavailable:
            self._local.searcher = None
            raise
        except Exception as error:  # the files changed under us (rebuild); start again
            self._local.searcher = None
            raise IndexUnavailable(repr(error)) from None
        self._local.searcher = searcher
        yield searcher

    def forget_searcher(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
        self._local.searcher = None

    # --- the rebuilding marker -----------------------------------------------------------
    @property
    def marker(self) -> Path:
        return self.path / MARKER

    def rebuilding(self) -> bool:
        """True while a live process is rebuilding; a dead process's marker is ignored."""
        try:
            pid = int(self.marker.read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def mark_rebuilding(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(str(os.getpid()))

    def clear_rebuilding(self) -> None:
        self.marker.unlink(missing_ok=True)

    # --- the write lock ------------------------------------------------------------------
    def write_lock(self) -> LockBase:
        """The lock every Whoosh writer of this index takes (an flock, so it dies with its
        process). Taken before deciding to rebuild, it makes one process the rebuilder:
        the marker alone is check-then-write, and two gunicorn workers could both pass it."""
        self.path.mkdir(parents=True, exist_ok=True)  # the folder may have been deleted
        return self._storage().lock(WRITE_LOCK)

    def try_write_lock(self) -> LockBase | None:
        """The write lock if nobody holds it now; None if another writer does."""
        lock = self.write_lock()
        return lock if lock.acquire(blocking=False) else None
