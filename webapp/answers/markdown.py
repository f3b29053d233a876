"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitizes, citations become links.

Citations are found by an inline rule, so `[1]` inside code is never one. The rule
emits a private-use placeholder that survives sanitizing; the anchors are put in after
nh3 has run, built from escaped source data, so nothing in a body can forge them.
"""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup, escape

_CITE_RE = re.compile(r"\[(\d{1,3})\](?![\[(:])")
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER_RE = re.compile(f"{_OPEN}(\\d+){_CLOSE}")

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "del", "sup", "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


class SourceRef(NamedTuple):
    """What a citation's tooltip says about its source."""

    title: str
    publisher: str | None


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    match = _CITE_RE.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"n": int(match.group(1))}
    state.pos = match.end()
    return True


def _render_citation(self, tokens, idx, options, env) -> str:
    return f"{_OPEN}{tokens[idx].meta['n']}{_CLOSE}"


def _parser() -> MarkdownIt:
    # html=True so raw HTML reaches nh3 and is dropped there, rather than shown as text.
    md = MarkdownIt("commonmark", {"html": True, "linkify": False})
    md.enable("strikethrough")
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation", _render_citation)
    return md


MD = _parser()


def citations(markdown: str) -> Iterator[tuple[int, int]]:
    """Yield (citation number, 0-based line within `markdown`) outside code."""
    for token in MD.parse(markdown):
        if token.type != "inline" or not token.children:
            continue
        first_line = token.map[0] if token.map else 0
        offset = 0
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):
                offset += 1
            elif child.type == "citation":
                yield child.meta["n"], first_line + offset


def _anchor(n: int, sources: Sequence[SourceRef]) -> str:
    if not 1 <= n <= len(sources):
        return f"[{n}]"
    source = sources[n - 1]
    tip = source.title + (f" — {source.publisher}" if source.publisher else "")
    return (
        f'<a href="#source-{n}" class="cite" data-tooltip="{escape(tip)}" '
        f'aria-label="Source {n}: {escape(tip)}">[{n}]</a>'
    )


@functools.lru_cache(maxsize=4096)
def _to_html(markdown: str, sources: tuple[SourceRef, ...]) -> str:
    raw = MD.render(markdown.replace(_OPEN, "").replace(_CLOSE, ""))
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return _PLACEHOLDER_RE.sub(lambda m: _anchor(int(m.group(1)), sources), clean)


def to_html(markdown: str, sources: Sequence[SourceRef] = ()) -> Markup:
    """Sanitized HTML for a summary or section body, citations linked to sources."""
    return Markup(_to_html(markdown, tuple(sources)))


def to_plain_text(markdown: str, limit: int | None = None) -> str:
    """Text without markup or citations, for descriptions and snippets."""
    text = nh3.clean(MD.render(markdown), tags=set())
    # Take the space before a citation with it, so "water [1]." reads "water.".
    text = re.sub(rf"\s*{_PLACEHOLDER_RE.pattern}", "", html.unescape(text))
    text = " ".join(text.split())
    if limit and len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text
