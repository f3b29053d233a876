"""Writing small answer files for tests, in the format of docs/content-format.md."""
from __future__ import annotations

from pathlib import Path

VALID = """\
---
question: Does lightning ever strike the same place twice?
slug: lightning-twice
category: science
checked_on: 2025-11-08
sources:
  - title: Lightning myths and facts
    url: https://example.org/lightning-myths
    publisher: Example Weather Service
    published: 2023-06-01
  - title: How often tall towers are struck
    url: https://example.org/towers
related:
  - How often is a skyscraper struck by lightning?
---
Yes: tall structures are struck again and again [1] [2].

## 1. Why tall structures are struck
Towers offer the shortest path [2].

## What this means for safety
Seek shelter indoors [1].
"""


def write(folder: Path, name: str, text: str = VALID, **replace: str) -> Path:
    """Write `text` as `name`, after replacing each key's line or string with its value."""
    for old, new in replace.items():
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def answer(slug: str, question: str, related: list[str] | None = None, category: str = "science") -> str:
    """A minimal valid answered file."""
    lines = "".join(f"  - {entry}\n" for entry in related or [])
    related_block = f"related:\n{lines}" if related else ""
    return (
        f"---\nquestion: {question}\nslug: {slug}\ncategory: {category}\nchecked_on: 2025-01-02\n"
        f"sources:\n  - title: A source\n    url: https://example.org/{slug}\n{related_block}---\n"
        f"The summary of {slug} [1].\n\n## A section\nThe body of {slug} [1].\n"
    )
