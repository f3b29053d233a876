"""The questions nearest a vector, from a matrix of every question's vector held by
each process and kept current by reading what changed since the last look.

Held: the first HELD of the model's dimensions, renormalised (WordLlama is trained so
that its leading dimensions carry most of the meaning: on the demo's paraphrases 128
found 58 of 60 in the top 3, as 256 did, and 64 found 53), float32, 512 bytes a
question: 51 MB at 100,000. The best few come from one matrix-vector product and
argpartition, not a full sort (bench/meaning.py measures both)."""
from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.clock import utcnow
from webapp.search.meaning.models import QuestionMeaning
from webapp.search.meaning.store import from_bytes

HELD = 128
# A look reads the rows written since the previous look began, less this: a
# transaction that committed late, or a writer whose clock is behind, is not missed.
OVERLAP = dt.timedelta(minutes=1)
GROW = 1024
READ_BATCH = 5000  # vectors read per query
EPOCH = dt.datetime(1970, 1, 1)


def held(vectors: np.ndarray) -> np.ndarray:
    """Vectors (one or a matrix of them) cut to HELD dimensions, of unit length."""
    cut = np.asarray(vectors, dtype=np.float32)[..., :HELD]
    norms = np.linalg.norm(cut, axis=-1, keepdims=True)
    return np.divide(cut, norms, out=np.zeros_like(cut), where=norms > 0)


def _seconds(moment: dt.datetime) -> float:
    return (moment - EPOCH).total_seconds()


class Nearest:
    """One process's copy of the vectors: rows of `matrix` are the questions in `ids`."""

    def __init__(self):
        self._lock = threading.Lock()  # the matrix and its bookkeeping
        self._reading = threading.Lock()  # one look at the database at a time
        self.loading = False  # a thread is making the first look
        self.matrix = np.zeros((0, HELD), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.stamps = np.zeros(0, dtype=np.float64)  # each row's changed_at as read (seconds)
        self.size = 0
        self.row: dict[int, int] = {}
        self.last_look: dt.datetime | None = None  # when the previous look began, by this clock
        self.looked_at = -float("inf")

    # --- keeping current --------------------------------------------------------------
    def refresh(self, session: Session, every: float) -> None:
        """Read what changed, if `every` seconds have passed since the last look.

        The first look reads every vector into a matrix of the right size (searches
        meanwhile find nothing by meaning rather than wait). Later ones ask which rows
        changed in the window (ids and times), then read the vectors of those this
        process does not hold as of that time: right after a rebuild every row is in
        the window for a minute, but only its first look reads their vectors."""
        if time.monotonic() - self.looked_at < every:
            return
        with self._reading:
            now = time.monotonic()
            if now - self.looked_at < every:
                return
            began = utcnow()
            if self.last_look is None:
                self._load_all(session)
            else:
                window = select(QuestionMeaning.question_id, QuestionMeaning.changed_at).where(
                    QuestionMeaning.changed_at > self.last_look - OVERLAP)
                changed = {question_id: at for question_id, at in session.execute(window)
                           if not self._holds(question_id, at)}
                wanted = list(changed)
                for start in range(0, len(wanted), READ_BATCH):
                    read = session.execute(select(QuestionMeaning.question_id, QuestionMeaning.vector)
                                           .where(QuestionMeaning.question_id.in_(wanted[start : start + READ_BATCH])))
                    with self._lock:
                        for question_id, vector in read:
                            self._put(question_id, None if vector is None else held(from_bytes(vector)),
                                      _seconds(changed[question_id]))
            self.last_look = began
            self.looked_at = now

    def _load_all(self, session: Session) -> None:
        """Every vector into a new matrix, swapped in at the end."""
        fresh = Nearest()
        count = session.scalar(select(func.count()).where(QuestionMeaning.vector.is_not(None))) or 0
        fresh.matrix = np.zeros((count + GROW, HELD), dtype=np.float32)
        fresh.ids = np.zeros(count + GROW, dtype=np.int64)
        fresh.stamps = np.zeros(count + GROW, dtype=np.float64)
        rows = session.execute(select(QuestionMeaning.question_id, QuestionMeaning.vector, QuestionMeaning.changed_at)
                               .where(QuestionMeaning.vector.is_not(None))
                               .execution_options(yield_per=READ_BATCH))
        for batch in rows.partitions():
            vectors = held(np.stack([from_bytes(vector) for _id, vector, _at in batch]))
            for (question_id, _vector, changed_at), vector in zip(batch, vectors, strict=True):
                fresh._put(question_id, vector, _seconds(changed_at))
        with self._lock:
            self.matrix, self.ids, self.stamps = fresh.matrix, fresh.ids, fresh.stamps
            self.size, self.row = fresh.size, fresh.row

    def _holds(self, question_id: int, changed_at: dt.datetime) -> bool:
        at = self.row.get(question_id)
        return at is not None and self.stamps[at] == _seconds(changed_at)

    def _put(self, question_id: int, vector: np.ndarray | None, stamp: float = 0.0) -> None:
        """Hold this question's vector (HELD dimensions, unit length), or drop it (None)."""
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
                grown = max(GROW, len(self.matrix) // 8)
                self.matrix = np.concatenate([self.matrix, np.zeros((grown, HELD), np.float32)])
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
        """Up to `limit` (question id, cosine similarity) at or above `floor`, nearest
        first; `vector` is the model's (cut here) or one this process holds."""
        vector = held(vector)
        with self._lock:
            size = self.size
            if size == 0 or limit <= 0 or not vector.any():
                return []
            scores = self.matrix[:size] @ vector
            wanted = min(size, limit + len(left_out))
            best = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < size else np.arange(size)
            best = best[np.argsort(-scores[best], kind="stable")]
            ids = self.ids[best]  # the best rows' ids, read before a look can move rows
        found = []
        for question_id, score in zip(ids.tolist(), scores[best].tolist(), strict=True):
            if score < floor or len(found) == limit:
                break
            if question_id not in left_out:
                found.append((question_id, score))
        return found

    def vector_of(self, question_id: int) -> np.ndarray | None:
        with self._lock:
            at = self.row.get(question_id)
            return None if at is None else self.matrix[at].copy()
