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
OVERLAP = dt.timedelta(minutes=5)
RELOAD_EVERY = 3600.0  # seconds: a full reload now and then drops what tombstones missed
GROW = 1024


class Nearest:
    """One process's copy of the vectors: rows of `matrix` are the questions in `ids`."""

    def __init__(self):
        self._lock = threading.Lock()
        self.matrix = np.zeros((0, model.DIMENSIONS), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.size = 0
        self.row: dict[int, int] = {}
        self.seen_until: dt.datetime | None = None  # the newest changed_at read, by the writers' clocks
        self.looked_at = -float("inf")
        self.loaded_at = -float("inf")

    # --- keeping current --------------------------------------------------------------
    def refresh(self, session: Session, every: float) -> None:
        """Read what changed, if `every` seconds have passed since the last look."""
        now = time.monotonic()
        if now - self.looked_at < every:
            return
        with self._lock:
            if now - self.looked_at < every:
                return
            if now - self.loaded_at > RELOAD_EVERY:
                self._reset()
                self.loaded_at = now
            statement = select(QuestionMeaning.question_id, QuestionMeaning.vector, QuestionMeaning.changed_at)
            if self.seen_until is not None:
                statement = statement.where(QuestionMeaning.changed_at > self.seen_until - OVERLAP)
            newest = self.seen_until
            started = utcnow()
            for question_id, vector, changed_at in session.execute(statement):
                self._put(question_id, None if vector is None else from_bytes(vector))
                newest = changed_at if newest is None or changed_at > newest else newest
            # Nothing at all yet: look back from now next time, not from the beginning.
            self.seen_until = newest or started
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
        self.seen_until = None

    def _put(self, question_id: int, vector: np.ndarray | None) -> None:
        at = self.row.get(question_id)
        if vector is None:
            if at is not None:  # a tombstone: the last row moves into its place
                last = self.size - 1
                self.matrix[at] = self.matrix[last]
                self.ids[at] = self.ids[last]
                self.row[int(self.ids[at])] = at
                del self.row[question_id]
                self.size = last
            return
        if at is None:
            if self.size == len(self.matrix):
                grown = max(GROW, len(self.matrix) // 2)
                self.matrix = np.concatenate([self.matrix, np.zeros((grown, model.DIMENSIONS), np.float32)])
                self.ids = np.concatenate([self.ids, np.zeros(grown, np.int64)])
            at = self.size
            self.size += 1
            self.row[question_id] = at
            self.ids[at] = question_id
        self.matrix[at] = vector

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
