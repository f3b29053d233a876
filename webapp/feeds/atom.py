"""Atom documents (RFC 4287), written by feedgen.

Every address is absolute and comes from SITE_URL (webapp/urls.py), never from the
request's Host. Entry ids are tag URIs (RFC 4151) made of the site's host, the day the
thing was created and its database id: they stay the same across requests, and when an
answer's slug changes. Titles are text (feedgen escapes them); content is HTML from the
project's Markdown path (markdown-it, then nh3) with what we add escaped."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from markupsafe import Markup, escape

from webapp.answers.markdown import SourceRef, to_html
from webapp.answers.metadata import VERDICT_LABELS
from webapp.feeds.service import AnswerEntry
from webapp.revisions.service import Entry as RevisionEntry
from webapp.templating import long_date
from webapp.urls import absolute_url

ATOM_TYPE = "application/atom+xml"
# Characters XML 1.0 cannot carry (lxml refuses them): dropped, so no text makes a feed fail.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Links inside a summary that are relative to the answer's page: a citation ("#source-2")
# or a path on the site ("/q/…"). In a feed they are made absolute (nh3 quotes with ").
_RELATIVE_HREF = re.compile(r'href="(#|/(?!/))')
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # the `updated` of a feed with no entries and no content


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    url: str
    updated: dt.datetime
    html: str
    category: tuple[str, str] | None = None  # (term, label)


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    self_url: str
    page_url: str  # the HTML page the feed follows (rel="alternate")
    site_name: str
    home_url: str


def host() -> str:
    """The site's host, for tag URIs."""
    return urlsplit(absolute_url("answers.home")).hostname or "localhost"


def tag(day: dt.date, specific: str) -> str:
    return f"tag:{host()},{day.isoformat()}:{specific}"


def newest(items: Sequence[Item], fallback: dt.datetime | None) -> dt.datetime:
    """A feed's `updated`: its newest entry's, or when content last changed for a feed with none."""
    return max((item.updated for item in items), default=fallback or EPOCH)


def render(feed: Feed, items: Sequence[Item], updated: dt.datetime) -> bytes:
    """The Atom document, entries in the order given (newest first)."""
    generator = FeedGenerator()
    generator.id(xml_text(feed.id))
    generator.title(xml_text(feed.title))
    generator.subtitle(xml_text(feed.subtitle))
    generator.author(name=xml_text(feed.site_name), uri=feed.home_url)
    generator.link(href=feed.self_url, rel="self", type=ATOM_TYPE)
    generator.link(href=feed.page_url, rel="alternate", type="text/html")
    generator.generator(xml_text(feed.site_name), uri=feed.home_url)
    generator.language("en")
    generator.updated(updated)
    for item in items:
        entry = generator.add_entry(order="append")
        entry.id(xml_text(item.id))
        entry.title(xml_text(item.title))
        entry.updated(item.updated)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.content(xml_text(item.html), type="html")
        if item.category:
            entry.category(term=xml_text(item.category[0]), label=xml_text(item.category[1]))
    return generator.atom_str(pretty=True)


def _absolute_links(html: str, page_url: str) -> str:
    origin = absolute_url("answers.home").rstrip("/")
    return _RELATIVE_HREF.sub(lambda m: f'href="{escape(page_url if m.group(1) == "#" else origin)}{m.group(1)}',
                              html)


def answer_item(entry: AnswerEntry) -> Item:
    """An answer: its question as the title; its claim and verdict if it checks one, the
    summary, and when it was checked (and corrected) as the content."""
    question = entry.question
    url = absolute_url("answers.question", slug=question.slug)
    sources = [SourceRef(s.title, s.publisher) for s in question.sources]
    parts = []
    if question.claim and question.verdict in VERDICT_LABELS:
        parts.append(Markup("<p>Claim: “{}” <strong>{}</strong></p>").format(question.claim,
                                                                            VERDICT_LABELS[question.verdict]))
    parts.append(Markup(_absolute_links(str(to_html(question.summary, sources)), url)))
    checked = f"Checked on {long_date(question.checked_on)}" if question.checked_on else "Answered"
    if question.corrected_on:
        checked += f"; corrected on {long_date(question.corrected_on)}"
    parts.append(Markup('<p>{}. <a href="{}">Read the whole answer and its sources</a>.</p>').format(checked, url))
    category = (question.category.slug, question.category.name) if question.category else None
    return Item(id=tag(question.created_at.date(), f"answer/{question.id}"), title=question.text, url=url,
                updated=entry.updated, html=str(Markup("\n").join(parts)), category=category)


def correction_item(entry: RevisionEntry, updated: dt.datetime) -> Item:
    """A correction: the answer it corrected, the editor's note, and what changed."""
    revision, question = entry.revision, entry.revision.question
    url = absolute_url("answers.question", slug=question.slug)
    if entry.previous:
        changes = absolute_url("revisions.diff", slug=question.slug, **{"from": entry.previous, "to": revision.number})
        words = "What changed"
    else:
        changes, words = absolute_url("revisions.history", slug=question.slug), "The answer's history"
    html = Markup('<p>Corrected on {}: {}</p>\n<p><a href="{}">{}</a> · <a href="{}">The corrected answer</a></p>').format(
        long_date(updated.date()), revision.note, changes, words, url)
    return Item(id=tag(revision.created_at.date(), f"correction/{revision.id}"), title=f"Corrected: {question.text}",
                url=url, updated=updated, html=str(html))
