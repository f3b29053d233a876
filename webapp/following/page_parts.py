"""Following's part of a question's page: the Follow button's state for the reader (a
`question` part: the reader's own, on every request; webapp/answers/parts.py). A
follower reading the page has seen what changed: that is noted in a transaction of its
own, and a page never fails because it could not be noted."""
from __future__ import annotations

import logging

from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.following import service
from webapp.following.models import Follow

log = logging.getLogger(__name__)


def on_question(question: Question) -> dict:
    if not current_user.is_authenticated:
        return dict(follow_state=None)  # the button leads to logging in
    following = service.is_following(db.session, current_user.id, question.id)
    if following:
        try:
            with db.engine.begin() as connection:
                connection.execute(update(Follow).where(Follow.user_id == current_user.id,
                                                        Follow.question_id == question.id).values(seen_at=utcnow()))
        except SQLAlchemyError:  # a busy database: the marks stay a visit longer
            log.warning("could not note that a follower read question %s", question.id, exc_info=True)
    return dict(follow_state=following)
