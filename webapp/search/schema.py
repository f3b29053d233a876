"""The Whoosh schema: what a question looks like to search."""
from __future__ import annotations

from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from webapp.search.query import STOP_WORDS


def english_analyzer():
    """Words, lower-cased, accents folded ("Cortés" finds "Cortes"), stop words out, stemmed."""
    return (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter(stoplist=STOP_WORDS)
            | StemFilter())


def spelling_analyzer():
    # Unstemmed words, so "Did you mean" offers real words, not stems like "lightn".
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def make_schema() -> Schema:
    english = english_analyzer()
    return Schema(
        id=ID(unique=True, stored=True),
        slug=ID(stored=True),
        # Two searched fields, not five: scoring cost grows with (fields x matching
        # documents), and at 100,000 questions five fields were 2-3x slower (bench/search.py).
        question=TEXT(analyzer=english, field_boost=3.0, stored=True, phrase=True),
        content=TEXT(analyzer=english, phrase=True),  # summary, headings, sections, sources
        summary=STORED(),  # for snippets
        category=ID(stored=True, sortable=True),
        category_name=STORED(),
        status=ID(stored=True, sortable=True),
        checked_on=DATETIME(stored=True, sortable=True),
        cites=KEYWORD(commas=True, lowercase=True),
        verdict=ID(stored=True),  # a rated claim's verdict (true … false); absent when none
        spell=TEXT(analyzer=spelling_analyzer(), spelling=True),
        version=STORED(),
    )


TEXT_FIELDS = ("question", "content")
