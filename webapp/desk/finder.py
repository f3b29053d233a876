"""The desk's related-question finder: questions whose text holds every word an editor
typed, answered first, then the shortest.

Words match anywhere in the text (`text_key LIKE '%word%'`), so "vaccin" finds
"vaccines" and "vaccination". On PostgreSQL the trigram index ix_question_text_trigrams
finds the rows holding each word's three-letter pieces; SQLite reads the table.

At most CANDIDATES matches are put in order. Ordering every match of a common word
("what", in most questions) sorted most of the table; past CANDIDATES matches the editor
is shown the best of the first CANDIDATES found, and a further word narrows them."""
from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Question
from webapp.content.naming import text_key

LIMIT = 8
WORDS = 6  # the first six words typed; more would only narrow an already short list
CANDIDATES = 1_000


def statement(query: str, limit: int = LIMIT) -> Select | None:
    """The finder's statement for what was typed; None when nothing was."""
    words = text_key(query).split()[:WORDS]
    if not words:
        return None
    matching = (select(Question.id).where(*(Question.text_key.contains(word, autoescape=True) for word in words))
                .limit(CANDIDATES))
    return (select(Question).where(Question.id.in_(matching))
            .order_by((Question.status == ANSWERED).desc(), func.length(Question.text), Question.id)
            .limit(limit))


def find(session: Session, query: str, limit: int = LIMIT) -> list[Question]:
    chosen = statement(query, limit)
    return [] if chosen is None else list(session.scalars(chosen))
