"""Search's part of a question's page: for an unanswered question, the answers most like
it. It is content (webapp/answers/parts.py): rendered and cached with the page's body,
under the content version, once the documents it reads hold every committed change."""
from __future__ import annotations

from sqlalchemy import select

from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search import service
from webapp.search.models import SearchOutbox

SIMILAR_COUNT = 5


def on_question(question: Question) -> dict:
    if question.answered:
        return {}
    return dict(similar=service.answers_like(db.session, question.text, SIMILAR_COUNT))


def settled() -> bool:
    """The similar answers read documents holding every committed change, from an index
    that is not being rebuilt: the Whoosh index once its outbox is empty (PostgreSQL writes
    its documents with the change). A rebuild writes a new content version at its end."""
    if service.rebuilding():
        return False
    return service.engine().name != "whoosh" or db.session.scalar(select(SearchOutbox.id).limit(1)) is None
