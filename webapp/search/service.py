"""Searching, for the features above the seam: they call these, never an engine."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from webapp.search.engine import SearchEngine
from webapp.search.query import ReaderQuery
from webapp.search.query import parse as parse_query
from webapp.search.results import Hit, SearchPage

SIMILAR_WORDS = 5


def engine() -> SearchEngine:
    return current_app.extensions["search"]


def search(session: Session, query: ReaderQuery, *, category: str | None = None, status: str | None = None,
           sort: str = "relevance", page: int = 1, counts: bool = True, hits: bool = True) -> SearchPage:
    return engine().search(session, query, category=category, status=status, sort=sort, page=page,
                           counts=counts, hits=hits)


def search_text(session: Session, text: str, **choices) -> SearchPage:
    """The first results for a few words, uncounted."""
    return search(session, parse_query(text), counts=False, **choices)


def answers_like(session: Session, text: str, limit: int = 5, status: str | None = "answered") -> list[Hit]:
    """The best search results for a question's text: answered ones (any, with
    `status=None`); none for a text without words.

    Its five longest words: search cost grows with every word, and the long ones carry
    the meaning ("energy", "brain") where the short ones mostly match everything."""
    words = sorted(set(parse_query(text).words), key=len, reverse=True)[:SIMILAR_WORDS]
    if not words:
        return []
    return search(session, parse_query(" ".join(words)), status=status, counts=False).hits[:limit]


def similar_answered(session: Session, question_id: int, excluded: set[int], wanted: int) -> list[int]:
    return engine().similar_answered(session, question_id, excluded, wanted) if wanted > 0 else []


def rebuilding() -> bool:
    return engine().rebuilding()
