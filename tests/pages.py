"""Helpers for reading pages in route tests: fetch as page or fragment, cut out a part."""
from __future__ import annotations

import html
import re

from tests.conftest import HTMX


def get(client, url, fragment=False, **kwargs):
    return client.get(url, headers=HTMX if fragment else {}, **kwargs)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def part(text: str, start: str, end: str = "</section>") -> str:
    """The text from the first `start` up to and including the next `end`."""
    assert start in text, f"{start!r} is not on the page"
    rest = text[text.index(start):]
    return rest[: rest.index(end) + len(end)]


def links(text: str) -> list[tuple[str, str]]:
    """(href, visible text) of every link."""
    found = re.findall(r'<a\b[^>]*?\bhref="([^"]*)"[^>]*>(.*?)</a>', text, re.S)
    return [(html.unescape(href), html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()) for href, inner in found]


def result_links(text: str) -> list[str]:
    """The answers a search results page lists, in order."""
    hits = re.findall(r'<a href="(/q/[^"]+)" class="hit-question"', text)
    return [html.unescape(h) for h in hits]
