"""Snippets with the matched words marked: the text is escaped first, then marked."""
from __future__ import annotations

from markupsafe import Markup, escape
from whoosh import highlight

from webapp.search.schema import english_analyzer

SNIPPET_CHARS = 220
_ANALYZER = english_analyzer()


class MarkFormatter(highlight.Formatter):
    """Escapes every piece of text and wraps matched words in <mark>."""

    between = " … "

    def _text(self, text: str) -> str:
        return str(escape(text))

    def format_token(self, text, token, replace=False) -> str:
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"


FORMATTER = MarkFormatter()


def snippet(summary: str, terms: set[str]) -> Markup:
    """The best-matching part of the summary, or its beginning where nothing matched."""
    if terms:
        fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
        marked = highlight.highlight(summary, terms, _ANALYZER, fragmenter, FORMATTER, top=2)
        if marked:
            return Markup(marked)
    if len(summary) > SNIPPET_CHARS:
        summary = summary[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    return Markup(escape(summary))


def question(text: str, terms: set[str]) -> Markup:
    """The question with its matched words marked."""
    if terms:
        marked = highlight.highlight(text, terms, _ANALYZER, highlight.WholeFragmenter(), FORMATTER)
        if marked:
            return Markup(marked)
    return Markup(escape(text))
