"""The questions nearest a vector, from a matrix of every question's vector held by
each process (float32, 1 KB a question: about 100 MB at 100,000 questions) and kept
current by reading what changed since the last look.

A matrix-vector product over 100,000 rows takes about 5 ms on one core; the best few
are picked with argpartition, not a full sort."""
from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.clock import utcnow
from webapp.search.meaning import model
from webapp.search.meaning.models import QuestionMeaning
from webapp.search.meaning.store import from_bytes

# Rows written this long before the last look are read again: a transaction that
# committed late, or a writer whose clock is behind, is not missed.
OVERLAP = dt.timedelta(minutes=1)
RELOAD_EVERY = 3600.0  # seconds: a full reload now and then drops what tombstones missed
GROW = 1024
READ_BATCH = 5000  # vectors read per query
EPOCH = dt.datetime(1970, 1, 1)


def _seconds(moment: dt.datetime) -> float:
    return (moment - EPOCH).total_seconds()


class Nearest:
    """One process's copy of the vectors: rows of `matrix` are the questions in `ids`."""

    def __init__(self):
        self._lock = threading.Lock()
        self.matrix = np.zeros((0, model.DIMENSIONS), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.size = 0
        self.row: dict[int, int] = {}
        self.stamps = np.zeros(0, dtype=np.float64)  # each row's changed_at as read (seconds)
        self.seen_until: dt.datetime | None = None  # the newest changed_at read, by the writers' clocks
        self.looked_at = -float("inf")
        self.loaded_at = -float("inf")

    # --- keeping current --------------------------------------------------------------
    def refresh(self, session: Session, every: float) -> None:
        """Read what changed, if `every` seconds have passed since the last look.

        Two steps: which rows changed in the window (ids and times, 16 bytes a row),
        then the vectors of those this process does not hold at that time. Right after a
        rebuild every row is in the window for a while; only its first look reads them."""
        now = time.monotonic()
        if now - self.looked_at < every:
            return
        with self._lock:
            if now - self.looked_at < every:
                return
            if now - self.loaded_at > RELOAD_EVERY:
                self._reset()
                self.loaded_at = now
            started = utcnow()
            window = select(QuestionMeaning.question_id, QuestionMeaning.changed_at)
            if self.seen_until is not None:
                window = window.where(QuestionMeaning.changed_at > self.seen_until - OVERLAP)
            changed = {question_id: at for question_id, at in session.execute(window)
                       if not self._holds(question_id, at)}
            for start in range(0, len(changed), READ_BATCH):
                wanted = list(changed)[start : start + READ_BATCH]
                for question_id, vector in session.execute(
                        select(QuestionMeaning.question_id, QuestionMeaning.vector)
                        .where(QuestionMeaning.question_id.in_(wanted))):
                    self._put(question_id, None if vector is None else from_bytes(vector),
                              _seconds(changed[question_id]))
            newest = max(changed.values(), default=None)
            if newest is not None and (self.seen_until is None or newest > self.seen_until):
                self.seen_until = newest
            # Nothing at all yet: look back from now next time, not from the beginning.
            self.seen_until = self.seen_until or started
            self.looked_at = now

    def forget(self) -> None:
        """Read everything again at the next look (after a rebuild in this process)."""
        with self._lock:
            self.loaded_at = self.looked_at = -float("inf")

    def _reset(self) -> None:
        self.matrix = np.zeros((0, model.DIMENSIONS), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.size = 0
        self.row = {}
        self.stamps = np.zeros(0, dtype=np.float64)
        self.seen_until = None

    def _holds(self, question_id: int, changed_at: dt.datetime) -> bool:
        at = self.row.get(question_id)
        return at is not None and self.stamps[at] == _seconds(changed_at)

    def _put(self, question_id: int, vector: np.ndarray | None, stamp: float = 0.0) -> None:
        at = self.row.get(question_id)
        if vector is None:
            if at is not None:  # a tombstone: the last row moves into its place
                last = self.size - 1
                self.matrix[at] = self.matrix[last]
                self.ids[at] = self.ids[last]
                self.stamps[at] = self.stamps[last]
                self.row[int(self.ids[at])] = at
                del self.row[question_id]
                self.size = last
            return
        if at is None:
            if self.size == len(self.matrix):
                grown = max(GROW, len(self.matrix) // 2)
                self.matrix = np.concatenate([self.matrix, np.zeros((grown, model.DIMENSIONS), np.float32)])
                self.ids = np.concatenate([self.ids, np.zeros(grown, np.int64)])
                self.stamps = np.concatenate([self.stamps, np.zeros(grown, np.float64)])
            at = self.size
            self.size += 1
            self.row[question_id] = at
            self.ids[at] = question_id
        self.matrix[at] = vector
        self.stamps[at] = stamp

    # --- reading ----------------------------------------------------------------------
    def near(self, vector: np.ndarray, limit: int, floor: float = -1.0,
             left_out: set[int] | frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """Up to `limit` (question id, cosine similarity) at or above `floor`, nearest first."""
        with self._lock:
            size = self.size
            if size == 0 or limit <= 0 or not vector.any():
                return []
            scores = self.matrix[:size] @ vector
            ids = self.ids[:size]
        wanted = min(size, limit + len(left_out))
        best = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < size else np.arange(size)
        best = best[np.argsort(-scores[best], kind="stable")]
        found = []
        for at in best:
            score = float(scores[at])
            if score < floor or len(found) == limit:
                break
            question_id = int(ids[at])
            if question_id not in left_out:
                found.append((question_id, score))
        return found

    def vector_of(self, question_id: int) -> np.ndarray | None:
        with self._lock:
            at = self.row.get(question_id)
            return None if at is None else self.matrix[at].copy()
