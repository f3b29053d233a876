"""Graph's part of the pages answers draws: a visit's path and figures, "went on to read",
the request widget, and "Most read this week" on the home page (webapp/answers/parts.py)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request

from webapp.answers import service as answers
from webapp.answers.models import Question
from webapp.content.naming import SLUG_PATTERN
from webapp.extensions import db
from webapp.graph import requests, signals, trail
from webapp.graph.readers import reader_key

_ANSWER_PATH = re.compile(rf"^/q/({SLUG_PATTERN})$")


def _count_visit(question: Question) -> None:
    """A view, and a follow when the reader came from another answer on this site."""
    if question.answered:
        signals.record(db.engine, "view", question.id)
    referrer = urlsplit(request.referrer or "")
    match = _ANSWER_PATH.match(referrer.path)
    if match and referrer.netloc == request.host and match.group(1) != question.slug:
        source = answers.question_by_slug(db.session, match.group(1))
        if source is not None:
            signals.record(db.engine, "follow", question.id, from_id=source.id)


def on_question(question: Question) -> dict:
    trail.visit(question.slug)
    _count_visit(question)
    values = dict(trail_questions=trail.questions(db.session))
    if not question.answered:
        widget = requests.widget(db.session, question, reader_key())
        values.update(request_count=widget["request_count"], requested=widget["requested"])
    return values


def went_on(question: Question) -> dict:
    """The same for every reader: kept a short while with the answer (answers/parts.py)."""
    return dict(went_on=signals.went_on_to_read(db.session, question)) if question.answered else {}


def on_home() -> dict:
    return dict(most_read=signals.most_read(db.session))
