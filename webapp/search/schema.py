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


def english_analyzer():
    """Words, lower-cased, accents folded ("Cortés" finds "Cortes"), stop words out, stemmed."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter()


def spelling_analyzer():
    # Unstemmed words, so "Did you mean" offers real words, not stems like "lightn".
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def make_schema() -> Schema:
    english = english_analyzer()
    return Schema(
        id=ID(unique=True, stored=True),
        slug=ID(stored=True),
        question=TEXT(analyzer=english, field_boost=4.0, stored=True, phrase=True),
        summary=TEXT(analyzer=english, field_boost=1.5, stored=True, phrase=True),
        headings=TEXT(analyzer=english, field_boost=1.5, phrase=True),
        body=TEXT(analyzer=english, phrase=True),
        sources=TEXT(analyzer=english, field_boost=0.5),
        category=ID(stored=True, sortable=True),
        category_name=STORED(),
        status=ID(stored=True, sortable=True),
        checked_on=DATETIME(stored=True, sortable=True),
        cites=KEYWORD(commas=True, lowercase=True),
        spell=TEXT(analyzer=spelling_analyzer(), spelling=True),
        version=STORED(),
    )


TEXT_FIELDS = ("question", "summary", "headings", "body", "sources")
