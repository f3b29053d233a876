"""Snippets with the matched words marked: the text is escaped first, then marked."""
from __future__ import annotations

from markupsafe import Markup, escape
from whoosh import highlight

from webapp.search.schema import english_analyzer
from webapp.search.snippets import BETWEEN, SNIPPET_CHARS, framed, opening

_ANALYZER = english_analyzer()


class MarkFormatter(highlight.Formatter):
    """Escapes every piece of text and wraps matched words in <mark>."""

    between = BETWEEN

    def format(self, fragments, replace=False) -> str:
        """The fragments joined, with an ellipsis where one cuts a sentence."""
        if not fragments:
            return ""
        parts = [(f.startchar, f.endchar, Markup(self.format_fragment(f, replace=replace))) for f in fragments]
        return str(framed(fragments[0].text, parts))

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
    return opening(summary)


def question(text: str, terms: set[str]) -> Markup:
    """The question with its matched words marked."""
    if terms:
        marked = highlight.highlight(text, terms, _ANALYZER, highlight.WholeFragmenter(), FORMATTER)
        if marked:
            return Markup(marked)
    return Markup(escape(text))
