"""What a search engine answers with, whichever engine it is: a page of hits with their
facets and a correction, and what a check of the engine against the database found."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup

from webapp.pagination import Page
from webapp.search.query import ReaderQuery

# Past this many matches a search counts a sample and says "about N": counting every
# match of a common word costs more than ranking the ten best (docs/search.md). At
# 1,000,000 questions counting 5,001 read as many table pages, one row each: 24-31 ms
# p50 of a results page, against 15-16 ms for 1,001 (docs/performance.md).
COUNT_CAP = 1000  # the default of the SEARCH_COUNT_CAP setting
SORTS = ("relevance", "newest")
MIN_CORRECTABLE = 3  # shorter words are too ambiguous to correct


def count_cap() -> int:
    return current_app.config.get("SEARCH_COUNT_CAP", COUNT_CAP)


def page_size() -> int:
    return current_app.config["PAGE_SIZE"]


@dataclass
class Hit:
    slug: str
    question: Markup  # escaped, then the matched words marked
    snippet: Markup
    category: str
    category_name: str
    answered: bool
    checked_on: dt.date | None
    verdict: str | None = None  # the slug (mostly-false); the page says it in words
    id: int = 0  # the question's id
    by_meaning: bool = False  # found by meaning alone: none of the words matched


@dataclass
class Facet:
    value: str
    label: str
    count: int


def status_label(status: str) -> str:
    return "Answered" if status == "answered" else "Not answered yet"


@dataclass
class SearchPage:
    query: ReaderQuery
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    size: int = field(default_factory=page_size)
    categories: list[Facet] = field(default_factory=list)
    statuses: list[Facet] = field(default_factory=list)
    suggestion: str | None = None
    unavailable: bool = False
    # Results first: a page asked for without counts has its hits, and whether a next
    # page exists, but no total and no facets (they come in a second request).
    counted: bool = True
    more: bool = False
    approximate: bool = False  # the total and the facets are estimates from a sample
    # The words are in so many answers that the hits are the newest of them, not ranked
    # (PostgreSQL at scale: docs/search.md).
    crowded: bool = False
    # Of a crowded search with a quoted phrase: how many of the newest answers were
    # looked through (a phrase may be rare among answers holding its words).
    looked_through: int | None = None

    def count(self, total: int) -> None:
        self.total = total
        self.counted = True
        self.more = self.paging.has_next

    def take(self, window: list, make) -> None:
        """The page's hits from up to `size` + 1 candidates (one more tells whether a
        next page exists when the page is not counted)."""
        self.hits = [make(item) for item in window[: self.size]]
        if not self.counted:
            self.more = len(window) > self.size
            if self.page == 1 and not window:
                self.count(0)  # nothing at all: that is a count too

    @property
    def paging(self) -> Page:
        """These hits as a page among the others, for the pager."""
        return Page(self.hits, self.page, self.size, self.total if self.counted else None, self.more, self.approximate)

    @property
    def page_count(self) -> int | None:
        return self.paging.count

    @property
    def offset(self) -> int:
        return self.paging.offset


def about(value: float) -> int:
    """An estimate rounded to two significant figures (37,412 -> 37,000)."""
    if value < 100:
        return round(value)
    digits = len(str(int(value))) - 2
    return int(round(value, -digits))


@dataclass
class Tally:
    """Matches counted by category and status: all of them, or a sample of the first
    `cap` + 1 and an estimate of how many there are in all."""

    groups: dict[tuple[str, str, str], int]  # (category, category name, status) -> matches
    sampled: int
    estimated: float | None = None  # the estimated total where the sample was cut

    def fill(self, page: SearchPage, category: str | None, status: str | None) -> None:
        factor = (self.estimated / self.sampled) if self.estimated else 1.0
        page.approximate = self.estimated is not None
        scale = about if page.approximate else round
        by_category: dict[str, list] = {}
        by_status: dict[str, float] = {}
        shown = 0.0
        for (slug, name, st), n in self.groups.items():
            if slug:
                by_category.setdefault(slug, [name or slug, 0.0])[1] += n
            by_status[st] = by_status.get(st, 0.0) + n
            if (not category or slug == category) and (not status or st == status):
                shown += n
        page.categories = sorted((Facet(slug, label, scale(n * factor)) for slug, (label, n) in by_category.items()),
                                 key=lambda f: (-f.count, f.label))
        page.statuses = [Facet(s, status_label(s), scale(n * factor)) for s, n in sorted(by_status.items())]
        page.count(scale(shown * factor))


@dataclass
class SyncResult:
    applied: int = 0
    busy: bool = False
    rebuilt: bool = False


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    # Search by meaning's vectors (webapp/search/meaning/): none yet, or of another text or model.
    vectors_missing: list[str] = field(default_factory=list)
    vectors_stale: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.vectors_missing or self.vectors_stale)
