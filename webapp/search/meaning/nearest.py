"""The questions nearest a vector: each process holds a compact code of every question's
vector, finds the nearest codes, and ranks those by their exact vectors, read from the
database. It is kept current by reading what changed since the last look.

Held: a question's code is BITS bits, the sides of BITS random hyperplanes (the same in
every process) its vector lies on, measured from the corpus's mean (SimHash: the
Hamming distance between two codes estimates the angle between the vectors; centring
matters because all the model's vectors lean one way). 64 bytes a question in a row of
`codes`, with its id (4 bytes) and a stamp of when it was written (4 bytes), and
`row_of` indexed by question id (4 bytes an id): 76 MB at 1,000,000 questions, where the
float32 matrix of 128 dimensions with a dict of rows took 488 MiB in every worker (issue
18). The first look's batches leave as much again freed but held by the C allocator;
it is handed back to the system when the look ends (`malloc_trim`).

Searching: the CANDIDATES nearest codes by Hamming distance (faiss's `knn_hamming`, a
few ms over 1,000,000 codes on one core, where numpy's bit count took 46 ms), then
their vectors from question_meaning by primary key, scored as before: the cosine of the
first HELD dimensions, renormalised, so the floors keep their meaning. HELD is all the
model keeps (webapp/search/meaning/model.py); vectors written with 256 dimensions
before that are cut to it, and score the same. A corpus of at most CANDIDATES questions
is scored whole; above that, how many of the true nearest the codes keep is measured by
bench/nearest.py (docs/performance.md)."""
from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import functools
import threading
import time

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.clock import utcnow
from webapp.database import among
from webapp.search.meaning.model import DIMENSIONS
from webapp.search.meaning.models import QuestionMeaning
from webapp.search.meaning.store import from_bytes, matrix_from_bytes

HELD = DIMENSIONS  # the dimensions scored
BITS = 512
CODE_BYTES = BITS // 8
CANDIDATES = 500  # nearest codes scored exactly
MEAN_SAMPLE = 20_000  # vectors the mean is taken over, at a process's first look
# The hyperplanes: drawn once from a fixed seed, so every process codes alike.
PLANES = np.random.default_rng(20261203).standard_normal((HELD, BITS)).astype(np.float32)
# A look reads the rows written since the previous look began, less this: a
# transaction that committed late, or a writer whose clock is behind, is not missed.
OVERLAP = dt.timedelta(minutes=1)
GROW = 1024
READ_BATCH = 5000  # vectors read per query
EPOCH = dt.datetime(1970, 1, 1)


@functools.cache
def _faiss():
    """faiss, loaded at the first search by meaning: 23 MB a worker that never searches
    by meaning (SEARCH_MEANING=0) does not hold."""
    import faiss

    faiss.omp_set_num_threads(1)  # one search is one query: its threads would only contend with the server's
    return faiss


def held(vectors: np.ndarray) -> np.ndarray:
    """Vectors (one or a matrix of them) cut to HELD dimensions, of unit length."""
    cut = np.asarray(vectors, dtype=np.float32)[..., :HELD]
    norms = np.linalg.norm(cut, axis=-1, keepdims=True)
    return np.divide(cut, norms, out=np.zeros_like(cut), where=norms > 0)


def _stamp(moment: dt.datetime) -> int:
    """When a row was written, in 4 bytes: the low 32 bits of its microseconds since the
    epoch. Stamps are only compared for equality, to tell whether the row held is the
    row written; two writes of one question 71.6 minutes apart to the microsecond would
    look alike, and the cost would be one stale code until the question next changes."""
    delta = moment - EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) & 0xFFFF_FFFF


def _give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc only; elsewhere nothing).
    Reading a million rows in batches leaves ~40 MB freed but kept by the allocator."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def vector_of(session: Session, question_id: int) -> np.ndarray | None:
    """A question's vector as stored (None: none, or the question was deleted)."""
    stored = session.scalar(select(QuestionMeaning.vector).where(QuestionMeaning.question_id == question_id))
    return None if stored is None else from_bytes(stored)


class Nearest:
    """One process's codes: row n of `codes` is question `ids[n]`, for the first `size` rows."""

    def __init__(self):
        self._lock = threading.Lock()  # the codes and their bookkeeping
        self._reading = threading.Lock()  # one look at the database at a time
        self.loading = False  # a thread is making the first look
        self.codes = np.zeros((0, CODE_BYTES), dtype=np.uint8)
        self.ids = np.zeros(0, dtype=np.int32)  # question ids are the database's 4-byte integers
        self.stamps = np.zeros(0, dtype=np.uint32)  # each row's changed_at as read (_stamp)
        self.row_of = np.full(0, -1, dtype=np.int32)  # by question id: its row, or -1
        self.mean = np.zeros(HELD, dtype=np.float32)  # the corpus's, as first read
        self.size = 0
        self.last_look: dt.datetime | None = None  # when the previous look began, by this clock
        self.looked_at = -float("inf")

    def code(self, vectors: np.ndarray) -> np.ndarray:
        """Each vector's code: the sides of the hyperplanes its HELD dimensions lie on,
        from the mean this process took at its first look."""
        return np.packbits((held(vectors) - self.mean) @ PLANES > 0, axis=-1)

    @property
    def nbytes(self) -> int:
        """What this process holds for search by meaning."""
        return self.codes.nbytes + self.ids.nbytes + self.stamps.nbytes + self.row_of.nbytes

    # --- keeping current --------------------------------------------------------------
    def refresh(self, session: Session, every: float) -> None:
        """Read what changed, if `every` seconds have passed since the last look.

        The first look reads every vector and keeps its code (searches meanwhile find
        nothing by meaning rather than wait). Later ones ask which rows changed in the
        window (ids and times), then read the vectors of those this process does not
        hold as of that time: right after a rebuild every row is in the window for a
        minute, but only its first look reads their vectors."""
        if time.monotonic() - self.looked_at < every:
            return
        with self._reading:
            now = time.monotonic()
            if now - self.looked_at < every:
                return
            began = utcnow()
            if self.last_look is None:
                self._load_all(session)
                _give_back_freed_memory()  # after the look's batches are gone with its frame
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
                            self._put(question_id, None if vector is None else from_bytes(vector),
                                      _stamp(changed[question_id]))
            self.last_look = began
            self.looked_at = now

    def _load_all(self, session: Session) -> None:
        """Every vector's code into new arrays, swapped in at the end."""
        fresh = Nearest()
        sample = session.scalars(select(QuestionMeaning.vector).where(QuestionMeaning.vector.is_not(None))
                                 .order_by(QuestionMeaning.question_id.desc()).limit(MEAN_SAMPLE)).all()
        if sample:
            fresh.mean = held(np.stack([from_bytes(vector) for vector in sample])).mean(axis=0)
        count = session.scalar(select(func.count()).where(QuestionMeaning.vector.is_not(None))) or 0
        last_id = session.scalar(select(func.max(QuestionMeaning.question_id))) or 0
        fresh._reserve(count + GROW, last_id + 1)
        rows = session.execute(select(QuestionMeaning.question_id, QuestionMeaning.vector, QuestionMeaning.changed_at)
                               .where(QuestionMeaning.vector.is_not(None))
                               .execution_options(yield_per=READ_BATCH))
        for batch in rows.partitions():
            codes = fresh.code(np.stack([from_bytes(vector) for _id, vector, _at in batch]))
            for (question_id, _vector, changed_at), row_code in zip(batch, codes, strict=True):
                fresh._put_code(question_id, row_code, _stamp(changed_at))
        with self._lock:
            self.codes, self.ids, self.stamps, self.row_of = fresh.codes, fresh.ids, fresh.stamps, fresh.row_of
            self.size, self.mean = fresh.size, fresh.mean

    def _reserve(self, rows: int, ids: int) -> None:
        """Room for at least `rows` codes and question ids below `ids`."""
        if rows > len(self.codes):
            more = rows - len(self.codes)
            self.codes = np.concatenate([self.codes, np.zeros((more, CODE_BYTES), np.uint8)])
            self.ids = np.concatenate([self.ids, np.zeros(more, np.int32)])
            self.stamps = np.concatenate([self.stamps, np.zeros(more, np.uint32)])
        if ids > len(self.row_of):
            self.row_of = np.concatenate([self.row_of, np.full(ids - len(self.row_of), -1, np.int32)])

    def _row(self, question_id: int) -> int | None:
        at = int(self.row_of[question_id]) if 0 <= question_id < len(self.row_of) else -1
        return None if at < 0 else at

    def _holds(self, question_id: int, changed_at: dt.datetime) -> bool:
        at = self._row(question_id)
        return at is not None and self.stamps[at] == _stamp(changed_at)

    def _put(self, question_id: int, vector: np.ndarray | None, stamp: int = 0) -> None:
        """Hold this question's vector's code, or drop it (None)."""
        if vector is not None:
            self._put_code(question_id, self.code(vector), stamp)
            return
        at = self._row(question_id)
        if at is not None:  # a tombstone: the last row moves into its place
            last = self.size - 1
            self.codes[at] = self.codes[last]
            self.ids[at] = self.ids[last]
            self.stamps[at] = self.stamps[last]
            self.row_of[int(self.ids[at])] = at
            self.row_of[question_id] = -1
            self.size = last

    def _put_code(self, question_id: int, row_code: np.ndarray, stamp: int) -> None:
        at = self._row(question_id)
        if at is None:
            if self.size == len(self.codes) or question_id >= len(self.row_of):
                self._reserve(self.size + max(GROW, len(self.codes) // 8),
                              max(question_id + 1 + GROW, len(self.row_of) + len(self.row_of) // 8))
            at = self.size
            self.size += 1
            self.row_of[question_id] = at
            self.ids[at] = question_id
        self.codes[at] = row_code
        self.stamps[at] = stamp

    # --- reading ----------------------------------------------------------------------
    def candidates(self, vector: np.ndarray, wanted: int) -> list[int]:
        """The ids of the `wanted` questions whose codes are nearest this vector's
        (every question held, if there are no more)."""
        with self._lock:
            size = self.size
            if size == 0 or wanted <= 0:
                return []
            if size <= wanted:
                return self.ids[:size].tolist()
            _distances, rows = _faiss().knn_hamming(self.code(vector)[np.newaxis], self.codes[:size], wanted)
            return self.ids[rows[0]].tolist()  # read before a look can move rows

    def near(self, session: Session, vector: np.ndarray, limit: int, floor: float = -1.0,
             left_out: set[int] | frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """Up to `limit` (question id, cosine similarity of the HELD dimensions) at or
        above `floor`, nearest first, among the CANDIDATES nearest codes; `vector` is
        the model's."""
        if limit <= 0 or not np.asarray(vector).any():
            return []
        ids = [q for q in self.candidates(vector, max(CANDIDATES, limit) + len(left_out)) if q not in left_out]
        if not ids:
            return []
        rows = session.execute(select(QuestionMeaning.question_id, QuestionMeaning.vector)
                               .where(among(session, QuestionMeaning.question_id, ids), QuestionMeaning.vector.is_not(None))).all()
        if not rows:
            return []
        found_ids, stored = [question_id for question_id, _v in rows], [vector_bytes for _q, vector_bytes in rows]
        vectors = matrix_from_bytes(stored)
        scores = held(vectors) @ held(vector)
        order = np.lexsort((np.asarray(found_ids), -scores))  # ties: the lower id first, every time
        return [(found_ids[i], float(scores[i])) for i in order[:limit] if scores[i] >= floor]
