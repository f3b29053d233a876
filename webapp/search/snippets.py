"""How a snippet shows where it was cut: both engines pick the parts of a summary that
match, and an ellipsis stands wherever a part begins or ends inside a sentence, so a
reader never takes half a sentence for the whole."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

SNIPPET_CHARS = 220
ELLIPSIS = "…"
BETWEEN = " … "  # between two parts of one summary
# Only closing punctuation left: the part reaches the end of the text.
_ONLY_PUNCTUATION = re.compile(r"[^\w\s]*\s*")
# A sentence's end: its stop, perhaps a closing quote, then a space.
_STOP = r"[.!?…][\"'’”)\]]*"
_SENTENCE_END = re.compile(rf"{_STOP}(?=\s)")
_ENDS_SENTENCE = re.compile(rf"{_STOP}$")
# The part starts right after one: a stop and a space, or a line break.
_SENTENCE_START = re.compile(rf"(?:{_STOP}\s+|\n\s*)$")
# Stops that end a word, not a sentence ("e.g. nitrogen", "Dr. Smith", "U.S. law").
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|Dr|Mr|Mrs|Ms|St|No)|\b\w\.\w)\.$", re.I)


def _sentence_ends_at(text: str, end: int) -> bool:
    """Whether the stop that ends text[:end] closes a sentence."""
    return not _ABBREVIATION.search(text[:end].rstrip("\"'’”)] "))


def _after(text: str, end: int) -> str:
    """What follows a part that ends at `end`: its closing punctuation where the sentence
    (or the text) ends there, else an ellipsis."""
    rest = text[end:]
    if _ONLY_PUNCTUATION.fullmatch(rest):
        return rest.rstrip()
    if (stop := _SENTENCE_END.match(rest)) and _sentence_ends_at(text, end + stop.end()):
        return stop.group(0)
    ended = _ENDS_SENTENCE.search(text[:end]) and _sentence_ends_at(text, end)
    return "" if ended and rest[:1].isspace() else ELLIPSIS


def _before(text: str, start: int) -> str:
    """What goes before a part that starts at `start`: the opening punctuation where the
    text starts there, nothing where a sentence does, else an ellipsis."""
    head = text[:start]
    if _ONLY_PUNCTUATION.fullmatch(head):
        return head.lstrip()
    starts = _SENTENCE_START.search(head) and _sentence_ends_at(text, len(head.rstrip()))
    return "" if starts else ELLIPSIS


def framed(text: str, parts: list[tuple[int, int, Markup]]) -> Markup:
    """Parts of `text` (their start and end in it, and their marked-up HTML), in order,
    joined, with an ellipsis where they cut a sentence."""
    if not parts:
        return Markup("")
    shown = Markup(BETWEEN).join(html for _, _, html in parts)
    return escape(_before(text, parts[0][0])) + shown + escape(_after(text, parts[-1][1]))


def opening(text: str) -> Markup:
    """The beginning of `text` where no part of it matched: up to SNIPPET_CHARS, cut
    between words."""
    if len(text) <= SNIPPET_CHARS:
        return Markup(escape(text))
    end = text.rfind(" ", 0, SNIPPET_CHARS + 1)
    end = len(text[:end].rstrip()) if end > 0 else SNIPPET_CHARS
    return framed(text, [(0, end, Markup(escape(text[:end])))])
