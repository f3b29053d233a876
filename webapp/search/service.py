"""Searching, for the features above the seam: they call these, never an engine."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Question
from webapp.search import hybrid
from webapp.search.engine import SearchEngine
from webapp.search.meaning import lookup
from webapp.search.query import STOP_WORDS, ReaderQuery
from webapp.search.query import parse as parse_query
from webapp.search.results import Hit, SearchPage

# "Answers that may help" and a reader's new question search by a question's rarest
# words: at most this many, matching at most about this many documents together (each
# match is ranked; at 1,000,000 questions its five longest words matched most of the
# corpus and the search took 12.3 s).
SIMILAR_WORDS = 3
SIMILAR_MATCHES = 5000
# A question's text against an existing question's vector: the demo's questions typed
# as they are score 0.6-0.85; reworded ones that mean the same, 0.55-0.7.
DUPLICATE_FLOOR = 0.55


def engine() -> SearchEngine:
    return current_app.extensions["search"]


def search(session: Session, query: ReaderQuery, *, category: str | None = None, status: str | None = None,
           sort: str = "relevance", page: int = 1, counts: bool = True, hits: bool = True,
           like: str | None = None) -> SearchPage:
    """A page of results: by words and by meaning (webapp/search/hybrid.py) where the
    query's plain words are ranked by relevance, else by words alone. `like`: the text
    whose meaning to look for, if not the query's words (a whole question, say)."""
    if hybrid.applies(query, sort):
        return hybrid.search(engine(), session, query, category=category, status=status, page=page,
                             counts=counts, hits=hits, like=like)
    return engine().search(session, query, category=category, status=status, sort=sort, page=page,
                           counts=counts, hits=hits)


def search_text(session: Session, text: str, **choices) -> SearchPage:
    """The first results for a few words, uncounted."""
    return search(session, parse_query(text), counts=False, **choices)


def answers_like(session: Session, text: str, limit: int = 5, status: str | None = "answered") -> list[Hit]:
    """The best search results for a question's text: answered ones (any, with
    `status=None`); none for a text without words. By meaning, the whole text.

    By its rarest words (key_words): they say what the question is about, where the
    common ones match everything, and the search's cost grows with what its words match."""
    words = key_words(session, parse_query(text).words)
    if not words:
        return []
    return search(session, parse_query(" ".join(words)), status=status, counts=False, like=text).hits[:limit]


def key_words(session: Session, words: list[str]) -> list[str]:
    """Up to SIMILAR_WORDS of these words, the rarest first, while together they are in
    at most SIMILAR_MATCHES documents (as the engine estimates): the rarest one even if
    it is in more. Among words equally rare (a small corpus, or PostgreSQL before its
    first ANALYZE) the longer first: they carry the meaning ("energy", "brain")."""
    distinct = [w for w in dict.fromkeys(words) if w not in STOP_WORDS]
    held = engine().document_counts(session, distinct)
    chosen, matches = [], 0
    for word in sorted(distinct, key=lambda w: (held.get(w, 0), -len(w), w))[:SIMILAR_WORDS]:
        if chosen and matches + held.get(word, 0) > SIMILAR_MATCHES:
            break
        chosen.append(word)
        matches += held.get(word, 0)
    return chosen


def similar_answered(session: Session, question_id: int, excluded: set[int], wanted: int) -> list[int]:
    """The answered questions most like this one: the engine's by shared rare words and
    the nearest by meaning, fused (webapp/search/hybrid.py)."""
    if wanted <= 0:
        return []
    by_words = engine().similar_answered(session, question_id, excluded, wanted)
    near = [q for q, _score in lookup.near_question(session, question_id, hybrid.NEAR, left_out=excluded)]
    answered = set(session.scalars(select(Question.id).where(Question.id.in_(near), Question.status == ANSWERED)))
    return hybrid.fuse(by_words, [q for q in near if q in answered])[:wanted]


def likely_duplicates(session: Session, text: str, limit: int = 3) -> list[Question]:
    """Existing questions that very probably ask what `text` asks (by meaning, at least
    DUPLICATE_FLOOR alike), nearest first: shown to an editor adding a question."""
    near = lookup.near_text(session, text, limit, floor=DUPLICATE_FLOOR)
    found = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_([q for q, _s in near])))}
    return [found[q] for q, _score in near if q in found]


def rebuilding() -> bool:
    return engine().rebuilding()
