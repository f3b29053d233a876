"""Hybrid ranking: the words engine's best matches and the nearest questions by
meaning, fused by reciprocal rank (each list gives 1 / (K + rank); a question in both
gets both).

Rules:
- Only plain words bring meaning in: a quoted phrase, an operator alone, or "newest"
  first asks for exactly what was typed, so those search by words alone.
- Operators and the page's filters hold for both lists: the nearest are kept only if
  the engine's operator filter allows them and they are in the chosen category and status.
- A question found by meaning alone must be at least SEARCH_MEANING_FLOOR alike
  (cosine), at most NEAR of them, and says so ("related in meaning"); highlights still
  come from the words.
- The total is the words' matches plus those found by meaning alone, so the pager and
  the facets count what the reader can page through."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, UNANSWERED
from webapp.search.engine import SearchEngine
from webapp.search.meaning import lookup
from webapp.search.query import ReaderQuery
from webapp.search.results import Facet, Hit, SearchPage, about, status_label

RRF_K = 60
POOL = 50  # the words' best, at least, fused with the nearest
NEAR = 20  # the nearest by meaning, at most
# How alike (cosine) a question that matches none of the words must be to be shown:
# the demo's paraphrases find their answer at 0.17-0.41 (5th-75th percentile), while
# the best match of a query about something the site does not cover was 0.06-0.31
# ("why do cats purr" finds "Are bats blind?" at 0.33).
FLOOR = 0.35
# The nearest list's share against the words' (bench/relevance.py --weight): at 1.0 a
# question first by meaning and second by words ties with one first by words and
# second by meaning, and the words' order wins ("popping your fingers bad for joints"
# kept MSG above the knuckles); at 1.1 meaning wins such ties, and the paraphrases in
# the top 3 went from 58 to 59 of 60 (Whoosh), at the cost of one relevance case
# from first to second. 1.3 and 1.6 found no more.
MEANING_WEIGHT = 1.1


def applies(query: ReaderQuery, sort: str) -> bool:
    return sort == "relevance" and bool(query.words) and lookup.enabled()


def fuse(words: list[int], near: list[int]) -> list[int]:
    """Both rankings as one, best first; ties go to the words' order."""
    score: dict[int, float] = {}
    for rank, question_id in enumerate(words, 1):
        score[question_id] = 1.0 / (RRF_K + rank)
    for rank, question_id in enumerate(near, 1):
        score[question_id] = score.get(question_id, 0.0) + MEANING_WEIGHT / (RRF_K + rank)
    order: dict[int, int] = {}
    for question_id in [*words, *near]:
        order.setdefault(question_id, len(order))
    return sorted(score, key=lambda q: (-score[q], order[q]))


def _chosen(hit: Hit, category: str | None, status: str | None) -> bool:
    return (not category or hit.category == category) and (
        not status or (status == ANSWERED) == hit.answered)


def nearest_hits(engine: SearchEngine, session: Session, query: ReaderQuery, like: str | None = None) -> list[Hit]:
    """The nearest questions by meaning that the operators allow, nearest first: any
    that match the words too (fusing raises them), and those that match none only if
    at least SEARCH_MEANING_FLOOR alike."""
    floor = current_app.config.get("SEARCH_MEANING_FLOOR", FLOOR)
    text = like or " ".join([*query.words, *query.phrases])
    near = lookup.near_text(session, text, NEAR)
    found = engine.hits_for(session, query, [question_id for question_id, _score in near], marked=False)
    return [found[q] for q, score in near if q in found and (score >= floor or not found[q].by_meaning)]


def _add_meaning_only(page: SearchPage, extra: list[Hit], category: str | None, status: str | None) -> None:
    """Counts of the words' matches (already on the page) plus those found by meaning alone."""
    categories = {f.value: f for f in page.categories}
    statuses = {f.value: f for f in page.statuses}
    shown = 0
    for hit in extra:
        if hit.category:
            facet = categories.setdefault(hit.category, Facet(hit.category, hit.category_name or hit.category, 0))
            facet.count += 1
        st = ANSWERED if hit.answered else UNANSWERED
        statuses.setdefault(st, Facet(st, status_label(st), 0)).count += 1
        shown += _chosen(hit, category, status)
    page.categories = sorted(categories.values(), key=lambda f: (-f.count, f.label))
    page.statuses = sorted(statuses.values(), key=lambda f: f.value)
    total = page.total + shown
    page.count(about(total) if page.approximate else total)


def search(engine: SearchEngine, session: Session, query: ReaderQuery, *, category: str | None,
           status: str | None, page: int, counts: bool, hits: bool, like: str | None = None) -> SearchPage:
    near = nearest_hits(engine, session, query, like)
    if counts:
        result = engine.search(session, query, category=category, status=status, page=page, counts=True,
                               hits=False)
        _add_meaning_only(result, [h for h in near if h.by_meaning], category, status)
    else:
        result = SearchPage(query=query, page=page, counted=False)
    if not hits:
        return result
    result.suggestion = engine.suggestion(session, query)
    if result.counted and not (result.total and page <= result.page_count):
        return result
    words = engine.ranked(session, query, category=category, status=status,
                          limit=max(POOL, result.offset + result.size + 1))
    if words is None:  # the engine cannot rank now (an index being rebuilt): as before
        return engine.search(session, query, category=category, status=status, page=page, counts=counts)
    chosen = [h for h in near if _chosen(h, category, status)]
    fused = fuse(words, [h.id for h in chosen])
    window = fused[result.offset : result.offset + result.size + (0 if result.counted else 1)]
    by_id = engine.hits_for(session, query, window)  # marked: the words they match
    result.take([by_id[q] for q in window if q in by_id], lambda hit: hit)
    return result
