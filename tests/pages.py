"""Helpers for reading pages in route tests: fetch as page or fragment, cut out a part."""
from __future__ import annotations

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
