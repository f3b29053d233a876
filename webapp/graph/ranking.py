"""PageRank over the related links, computed by a command and stored, so that no
serving process holds the whole graph.

Rules:
- Computed offline: `flask graph rank` (after every `flask content import`, and on a
  schedule; docs/operations.md), from the link table read as two arrays of ids, with
  a sparse matrix (scipy): about 40 bytes a link, where networkx took about 1 KB.
- Written in one transaction (the old ranks deleted, the new inserted), so readers see
  the old ranks or the new, never a mix; on PostgreSQL one run at a time (an advisory
  lock), so runs that overlap write one after the other.
- Pages read the best few through the rank's index, joined to the question for its
  current status and category; a question added since the last run has no rank yet,
  so it is no hub until the next.
- The same PageRank as networkx's (damping 0.85, a page without links spreads its rank
  evenly; tests/test_graph_network.py compares them), so the hubs did not change."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Question, RelatedLink
from webapp.database import local_setting
from webapp.graph.models import QuestionRank

DAMPING = 0.85
TOLERANCE = 1.0e-6  # per question, as networkx's
MAX_ROUNDS = 100
WRITE_BATCH = 10_000
PLACES_KEPT = 10  # a category's hubs kept in place order: /explore shows 5 (a few may have lost their answer since)
RANKING_LOCK = 0x706C756D6272616E  # pg_advisory_xact_lock key of `compute`: "plumbran"


def pagerank(ids: np.ndarray, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each question's rank (in the order of `ids`, which must be sorted), for links
    sources[i] -> targets[i]; a link repeated counts once, as in a networkx DiGraph."""
    # Imported here: only `flask graph rank` computes; a web worker that imported scipy
    # for the pages that read the results would hold 13 MB more.
    from scipy import sparse
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


def places(session: Session, ids: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Each question's place among its category's answers by rank (1, 2, ...; ties by
    id), for the first PLACES_KEPT of each category; 0 for the rest and for questions
    that are not answers or have no category."""
    rows = session.execute(select(Question.category_id, Question.status).order_by(Question.id)).all()
    category = np.fromiter((c if c is not None and s == ANSWERED else -1 for c, s in rows), dtype=np.int64,
                           count=len(rows))
    del rows
    order = np.lexsort((ids, -rank, category))  # by category, then most central first
    grouped = category[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    first_of_group = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    in_group = np.arange(len(order)) - first_of_group + 1
    place = np.zeros(len(ids), dtype=np.int64)
    kept = (grouped >= 0) & (in_group <= PLACES_KEPT)
    place[order[kept]] = in_group[kept]
    return place


def compute(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Rank every question and store the ranks, in the session's transaction (the
    caller commits); the number ranked."""
    if session.get_bind().dialect.name == "postgresql":
        # One run at a time (an import's and the scheduled one): the second reads the
        # links after the first commits. Both deleting the old ranks before either
        # committed, the second failed on the first's new rows' primary keys.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RANKING_LOCK})
    ids = np.fromiter(session.scalars(select(Question.id).order_by(Question.id)), dtype=np.int64)
    links = session.execute(select(RelatedLink.from_id, RelatedLink.to_id)).all()
    sources = np.fromiter((f for f, _t in links), dtype=np.int64, count=len(links))
    targets = np.fromiter((t for _f, t in links), dtype=np.int64, count=len(links))
    del links
    rank = pagerank(ids, sources, targets)
    place = places(session, ids, rank)
    session.execute(delete(QuestionRank))
    for start in range(0, len(ids), WRITE_BATCH):
        chunk = slice(start, start + WRITE_BATCH)
        session.execute(insert(QuestionRank), [{"question_id": int(q), "rank": float(r), "place": int(p) or None}
                                                for q, r, p in zip(ids[chunk], rank[chunk], place[chunk], strict=True)])
        if progress:
            progress(len(ids[chunk]))
    if session.get_bind().dialect.name == "postgresql":
        # Statistics of the new rows at once, not when autovacuum comes by: planned with
        # the old ones, /explore's query read both tables whole (3.4 s at 1,000,000).
        session.execute(text("ANALYZE question_rank"))
    return len(ids)


def hubs(session: Session, limit: int = 10) -> list[int]:
    """The most central answered questions.

    Read along the rank's index without parallel workers: the planner cannot tell how
    few rows share a rank (ties go by the question's text), so at 1,000,000 questions it
    started two workers for a walk of eleven rows, 7.5 ms where one process takes 0.1."""
    with local_setting(session, "max_parallel_workers_per_gather", "0"):
        return list(session.scalars(select(Question.id).join(QuestionRank, QuestionRank.question_id == Question.id)
                                    .where(Question.status == ANSWERED)
                                    .order_by(QuestionRank.rank.desc(), Question.text).limit(limit)))


def category_hubs(session: Session, limit: int = 5) -> dict[int, list[int]]:
    """Each category's most central answers, {category id: question ids}, in one query
    over the places the last ranking kept (at most PLACES_KEPT rows a category)."""
    rows = session.execute(
        select(Question.id, Question.category_id).join(QuestionRank, QuestionRank.question_id == Question.id)
        .where(QuestionRank.place.is_not(None), Question.status == ANSWERED, Question.category_id.is_not(None))
        .order_by(Question.category_id, QuestionRank.rank.desc(), Question.text))
    found: dict[int, list[int]] = {}
    for question_id, category_id in rows:
        hubs_of = found.setdefault(category_id, [])
        if len(hubs_of) < limit:
            hubs_of.append(question_id)
    return found
