"""Search's part of a question's page: for an unanswered question, the answers most like
it (webapp/answers/parts.py)."""
from __future__ import annotations

from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search import service

SIMILAR_COUNT = 5


def on_question(question: Question) -> dict:
    if question.answered:
        return {}
    return dict(similar=service.answers_like(db.session, question.text, SIMILAR_COUNT))
