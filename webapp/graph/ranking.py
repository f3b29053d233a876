"""PageRank over the related links, computed by a command and stored, so that no
serving process holds the whole graph.

Rules:
- Computed offline: `flask graph rank` (after every `flask content import`, and on a
  schedule; docs/operations.md), from the link table read as two arrays of ids, with
  a sparse matrix (scipy): about 40 bytes a link, where networkx took about 1 KB.
- Written in one transaction (the old ranks deleted, the new inserted), so readers see
  the old ranks or the new, never a mix.
- Pages read the best few through the rank's index, joined to the question for its
  current status and category; a question added since the last run has no rank yet,
  so it is no hub until the next.
- The same PageRank as networkx's (damping 0.85, a page without links spreads its rank
  evenly; tests/test_graph_network.py compares them), so the hubs did not change."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Question, RelatedLink
from webapp.graph.models import QuestionRank

DAMPING = 0.85
TOLERANCE = 1.0e-6  # per question, as networkx's
MAX_ROUNDS = 100
WRITE_BATCH = 10_000


def pagerank(ids: np.ndarray, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each question's rank (in the order of `ids`, which must be sorted), for links
    sources[i] -> targets[i]; a link repeated counts once, as in a networkx DiGraph."""
    n = len(ids)
    if n == 0:
        return np.zeros(0)
    src, dst = np.searchsorted(ids, sources), np.searchsorted(ids, targets)
    pairs = np.unique(src.astype(np.int64) * n + dst)
    src, dst = pairs // n, pairs % n
    out = np.bincount(src, minlength=n).astype(np.float64)
    # Column-stochastic in effect: each link carries 1 / (its source's links) of it.
    spread = sparse.csr_matrix((1.0 / out[src], (dst, src)), shape=(n, n))
    dangling = out == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(MAX_ROUNDS):
        last = rank
        rank = DAMPING * (spread @ last + last[dangling].sum() / n) + (1.0 - DAMPING) / n
        if np.abs(rank - last).sum() < n * TOLERANCE:
            break
    return rank


def compute(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Rank every question and store the ranks, in the session's transaction (the
    caller commits); the number ranked."""
    ids = np.fromiter(session.scalars(select(Question.id).order_by(Question.id)), dtype=np.int64)
    links = session.execute(select(RelatedLink.from_id, RelatedLink.to_id)).all()
    sources = np.fromiter((f for f, _t in links), dtype=np.int64, count=len(links))
    targets = np.fromiter((t for _f, t in links), dtype=np.int64, count=len(links))
    del links
    rank = pagerank(ids, sources, targets)
    session.execute(delete(QuestionRank))
    for start in range(0, len(ids), WRITE_BATCH):
        chunk = slice(start, start + WRITE_BATCH)
        session.execute(insert(QuestionRank), [{"question_id": int(q), "rank": float(r)}
                                                for q, r in zip(ids[chunk], rank[chunk], strict=True)])
        if progress:
            progress(len(ids[chunk]))
    return len(ids)


def hubs(session: Session, limit: int = 10, category_id: int | None = None) -> list[int]:
    """The most central answered questions, optionally within a category."""
    statement = (select(Question.id).join(QuestionRank, QuestionRank.question_id == Question.id)
                 .where(Question.status == ANSWERED)
                 .order_by(QuestionRank.rank.desc(), Question.text).limit(limit))
    if category_id is not None:
        statement = statement.where(Question.category_id == category_id)
    return list(session.scalars(statement))
