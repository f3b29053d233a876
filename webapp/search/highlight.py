"""Snippets with the matched words marked: the text is escaped first, then marked."""
from __future__ import annotations

from markupsafe import Markup, escape
from whoosh import highlight

SNIPPET_CHARS = 220


class MarkFormatter(highlight.Formatter):
    """Escapes every piece of text and wraps matched words in <mark>."""

    between = " … "

    def _text(self, text: str) -> str:
        return str(escape(text))

    def format_token(self, text, token, replace=False) -> str:
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"


def configure(results) -> None:
    results.formatter = MarkFormatter()
    results.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)


def snippet(hit) -> Markup:
    """The best-matching part of the summary, or its beginning where nothing matched."""
    marked = hit.highlights("summary", top=2)
    if marked:
        return Markup(marked)
    summary = hit.get("summary", "")
    if len(summary) > SNIPPET_CHARS:
        summary = summary[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    return Markup(escape(summary))


def question(hit) -> Markup:
    """The question with its matched words marked."""
    results = hit.results
    fragmenter = results.fragmenter
    results.fragmenter = highlight.WholeFragmenter()
    try:
        marked = hit.highlights("question")
    finally:
        results.fragmenter = fragmenter
    return Markup(marked) if marked else Markup(escape(hit["question"]))
