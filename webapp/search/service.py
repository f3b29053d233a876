"""Searching the index as readers do: ranked, filtered, faceted, highlighted, corrected."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from whoosh import sorting

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


def _hit(hit) -> Hit:
    checked = hit.get("checked_on")
    return Hit(
        slug=hit["slug"],
        question=highlight.question(hit),
        snippet=highlight.snippet(hit),
        category=hit.get("category", ""),
        category_name=hit.get("category_name", ""),
        answered=hit.get("status") == "answered",
        checked_on=checked.date() if checked else None,
    )


def _facets(searcher, whoosh_query, query: ReaderQuery, names: dict[str, str]):
    """Counts per category and per status for the words and operators (not the page's filters)."""
    results = searcher.search(
        whoosh_query, filter=filters(query), limit=1,
        groupedby={"category": sorting.FieldFacet("category", maptype=sorting.Count),
                   "status": sorting.FieldFacet("status", maptype=sorting.Count)},
    )
    categories = [Facet(slug, names.get(slug, slug), n) for slug, n in results.groups("category").items() if slug]
    categories.sort(key=lambda f: (-f.count, f.label))
    statuses = [Facet(s, "Answered" if s == "answered" else "Not answered yet", n)
                for s, n in sorted(results.groups("status").items())]
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


def search(index: SearchIndex, session: Session, query: ReaderQuery, *, category: str | None = None,
           status: str | None = None, sort: str = "relevance", page: int = 1) -> SearchPage:
    result = SearchPage(query=query, page=page)
    if query.empty and not (category or status):
        return result
    names = dict(session.execute(select(Category.slug, Category.name)).all())
    try:
        with index.searcher() as searcher:
            whoosh_query = text_query(query, searcher.schema)
            flt = filters(query, category, status)
            newest = sort == "newest" or not query.has_terms
            results = searcher.search_page(
                whoosh_query, page, pagelen=PAGE_SIZE, filter=flt,
                sortedby="checked_on" if newest else None, reverse=newest,
            )
            highlight.configure(results.results)
            result.total, result.page_count = results.total, max(1, results.pagecount)
            result.page = min(page, result.page_count)
            result.hits = [_hit(hit) for hit in results] if page <= results.pagecount else []
            result.categories, result.statuses = _facets(searcher, whoosh_query, query, names)
            if query.words:
                result.suggestion = _suggestion(searcher, query, flt)
    except IndexUnavailable:
        result.unavailable = True
    return result
