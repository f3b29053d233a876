"""What a search engine answers with, whichever engine it is: a page of hits with their
facets and a correction, and what a check of the engine against the database found."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from markupsafe import Markup

from webapp.search.query import ReaderQuery

PAGE_SIZE = 10
SORTS = ("relevance", "newest")
MIN_CORRECTABLE = 3  # shorter words are too ambiguous to correct


@dataclass
class Hit:
    slug: str
    question: Markup  # escaped, then the matched words marked
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


def status_label(status: str) -> str:
    return "Answered" if status == "answered" else "Not answered yet"


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
    # Results first: a page asked for without counts has its hits, and whether a next
    # page exists, but no total and no facets (they come in a second request).
    counted: bool = True
    more: bool = False

    def count(self, total: int) -> None:
        self.total = total
        self.page_count = max(1, -(-total // PAGE_SIZE))
        self.counted = True
        self.more = self.page < self.page_count

    def take(self, window: list, make) -> None:
        """The page's hits from up to PAGE_SIZE + 1 candidates (one more tells whether a
        next page exists when the page is not counted)."""
        self.hits = [make(item) for item in window[:PAGE_SIZE]]
        if not self.counted:
            self.more = len(window) > PAGE_SIZE
            if self.page == 1 and not window:
                self.count(0)  # nothing at all: that is a count too

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


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

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)
