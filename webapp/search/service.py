"""Searching the index as readers do: ranked, filtered, faceted, highlighted, corrected."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from whoosh.query import Term

from webapp.answers.models import Category
from webapp.search import highlight
from webapp.search.index import IndexUnavailable, SearchIndex
from webapp.search.query import WORD, ReaderQuery, filters, text_query

PAGE_SIZE = 10
SORTS = ("relevance", "newest")
MIN_CORRECTABLE = 3  # shorter words are too ambiguous to correct


@dataclass
class Hit:
    slug: str
    question: Markup
    snippet: Markup
    category: str
    category_name: str
    answered: bool
    checked_on: dt.date | None


@dataclass
class Facet:
    value: str
    label: str
    count: int


@dataclass
class SearchPage:
    query: ReaderQuery
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_count: int = 1
    categories: list[Facet] = field(default_factory=list)
    statuses: list[Facet] = field(default_factory=list)
    suggestion: str | None = None
    unavailable: bool = False


def _terms(whoosh_query) -> set[str]:
    """The analysed words of the query (what the index matched), for highlighting."""
    return {text.decode() if isinstance(text, bytes) else text for _field, text in whoosh_query.iter_all_terms()}


def _hit(hit, terms: set[str]) -> Hit:
    checked = hit.get("checked_on")
    return Hit(
        slug=hit["slug"],
        question=highlight.question(hit["question"], terms),
        snippet=highlight.snippet(hit.get("summary", ""), terms),
        category=hit.get("category", ""),
        category_name=hit.get("category_name", ""),
        answered=hit.get("status") == "answered",
        checked_on=checked.date() if checked else None,
    )


def _value_sets(searcher, field: str) -> dict[str, frozenset[int]]:
    """Document numbers per value of a facet field, kept for the searcher's lifetime."""
    cache = searcher.__dict__.setdefault("_plumb_facets", {})
    if field not in cache:
        cache[field] = {
            (v.decode() if isinstance(v, bytes) else v): frozenset(searcher.docs_for_query(Term(field, v)))
            for v in searcher.lexicon(field)
        }
    return cache[field]


def _docs(searcher, query) -> frozenset[int] | None:
    return None if query is None else frozenset(searcher.docs_for_query(query))


def _facets(searcher, matched: frozenset[int], names: dict[str, str]):
    """Counts per category and per status among the documents the words and operators match."""
    categories = [Facet(slug, names.get(slug, slug), n) for slug, docs in _value_sets(searcher, "category").items()
                  if slug and (n := len(matched & docs))]
    categories.sort(key=lambda f: (-f.count, f.label))
    statuses = [Facet(s, "Answered" if s == "answered" else "Not answered yet", n)
                for s, docs in sorted(_value_sets(searcher, "status").items()) if (n := len(matched & docs))]
    return categories, statuses


def _suggestion(searcher, query: ReaderQuery, flt) -> str | None:
    """A corrected query, if some words are unknown and correcting them finds more."""
    corrector = searcher.corrector("spell")
    fixes: dict[str, str] = {}
    for word in query.words:
        if len(word) >= MIN_CORRECTABLE and searcher.doc_frequency("spell", word) == 0:
            options = corrector.suggest(word, limit=1, maxdist=1, prefix=1)
            if options and options[0] != word:
                fixes[word] = options[0]
    if not fixes:
        return None
    corrected = [fixes.get(word, word) for word in query.words]
    # An unknown word adds nothing to the results, so a correction that finds anything helps.
    if searcher.search(text_query(query, searcher.schema, corrected), filter=flt, limit=1).is_empty():
        return None
    return WORD.sub(lambda m: fixes.get(m.group(0).lower(), m.group(0)), query.text)


def _matching(searcher, whoosh_query, query: ReaderQuery) -> frozenset[int]:
    """Documents matching the words and the operators: one pass, no scoring."""
    matched = frozenset(searcher.docs_for_query(whoosh_query))
    operators = _docs(searcher, filters(query))
    return matched if operators is None else matched & operators


def _page_filter(searcher, category: str | None, status: str | None) -> frozenset[int] | None:
    sets = []
    if category:
        sets.append(_value_sets(searcher, "category").get(category, frozenset()))
    if status:
        sets.append(_value_sets(searcher, "status").get(status, frozenset()))
    return frozenset.intersection(*sets) if sets else None


def search(index: SearchIndex, session: Session, query: ReaderQuery, *, category: str | None = None,
           status: str | None = None, sort: str = "relevance", page: int = 1) -> SearchPage:
    result = SearchPage(query=query, page=page)
    if query.empty and not (category or status):
        return result
    names = dict(session.execute(select(Category.slug, Category.name)).all())
    try:
        with index.searcher() as searcher:
            whoosh_query = text_query(query, searcher.schema)
            matched = _matching(searcher, whoosh_query, query)
            result.categories, result.statuses = _facets(searcher, matched, names)
            chosen = _page_filter(searcher, category, status)
            shown = matched if chosen is None else matched & chosen
            result.total = len(shown)
            result.page_count = max(1, -(-result.total // PAGE_SIZE))
            if shown and page <= result.page_count:
                newest = sort == "newest" or not query.has_terms
                hits = searcher.search(whoosh_query, limit=page * PAGE_SIZE, filter=set(shown),
                                       sortedby="checked_on" if newest else None, reverse=newest)
                terms = _terms(whoosh_query)
                result.hits = [_hit(hit, terms) for hit in hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
            if query.words:
                result.suggestion = _suggestion(searcher, query, filters(query))
    except IndexUnavailable:
        result.unavailable = True
    return result
