"""What crawlers read: the sitemap (sitemaps.org protocol 0.9) and robots.txt.

A sitemap file holds at most 50,000 URLs (and 50 MB; ours are about 100 bytes each).
Past that, /sitemap.xml is a sitemap index naming /sitemaps/1.xml, /sitemaps/2.xml, …,
each a page of the same list: the site's own pages (home, about, corrections, every
category with an answer), then every answered question in id order. A page is written
as it is read, one batch of rows at a time."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # per file, as the protocol requires
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Not for crawlers: editors' and readers' own pages, forms and what they lead to, search
# results (endless, and noindex), the support widget's fragments, operations. Answers,
# categories, the explorer, /requests, /corrections, /about and the feeds stay open.
# `*` (RFC 9309) stands for any slug.
DISALLOW = (
    "/desk/",
    "/account",
    "/login",
    "/logout",
    "/register",
    "/ask",
    "/support/",
    "/search",
    "/trail/",
    "/explore/path",
    "/q/*/history/diff",
    "/q/*/report",
    "/q/*/request",
    "/q/*/follow",
    "/following/",
    "/embed/",
    "/metrics",
    "/healthz",
)


@dataclass(frozen=True)
class Page:
    """One sitemap file's part of the list: its site pages, and which answered questions."""

    statics: list[tuple[str, dt.date | None]]  # (absolute URL, lastmod)
    offset: int  # of the first answered question on it, in id order
    count: int  # answered questions on it


def page_count(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def page(number: int, size: int, statics: list[tuple[str, dt.date | None]], answered: int) -> Page:
    """Page `number` (from 1) of [statics..., answered questions...] cut into `size`s."""
    start, end = (number - 1) * size, number * size
    first, last = max(0, start - len(statics)), max(0, min(end, len(statics) + answered) - len(statics))
    return Page(statics[start:end], first, max(0, last - first))


def url(loc: str, lastmod: dt.date | None = None) -> str:
    mod = f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(loc)}</loc>{mod}</url>\n"


def urlset(parts: Iterable[str]) -> Iterator[str]:
    """A sitemap file around `parts` (each some <url> elements), as it is made."""
    yield f'{DECLARATION}<urlset xmlns="{NAMESPACE}">\n'
    yield from parts
    yield "</urlset>\n"


def answer_urls(batch: list[tuple[str, dt.date | None]], head: str, tail: str) -> str:
    """One batch of answers: each URL is head + slug + tail (a slug is a-z, 0-9 and '-')."""
    head, tail = escape(head), escape(tail)
    return "".join(f"<url><loc>{head}{slug}{tail}</loc>" + (f"<lastmod>{day.isoformat()}</lastmod>" if day else "")
                   + "</url>\n" for slug, day in batch)


def index(locations: Iterable[str]) -> str:
    entries = "".join(f"<sitemap><loc>{escape(loc)}</loc></sitemap>\n" for loc in locations)
    return f'{DECLARATION}<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'


def robots(sitemap_url: str, site_name: str) -> str:
    site_name = " ".join(site_name.split())
    lines = [f"# {site_name}: every answer is open to crawlers; editors' and readers' own pages are not.",
             "User-agent: *", *(f"Disallow: {path}" for path in DISALLOW), "", f"Sitemap: {sitemap_url}", ""]
    return "\n".join(lines)
