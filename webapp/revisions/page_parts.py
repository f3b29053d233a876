"""The revisions feature's part of an answer's page: "Cite this answer", naming the
latest revision. It is content (webapp/answers/parts.py): a new revision is a content
change, so the body it is cached with is rendered again."""
from __future__ import annotations

from flask import current_app

from webapp.answers.models import Question
from webapp.extensions import db
from webapp.revisions import citing, service


def on_question(question: Question) -> dict:
    if not question.answered or question.checked_on is None:
        return {}
    number = service.latest_number(db.session, question.id)
    if not number:  # an answer from before revisions were kept: nothing fixed to cite yet
        return {}
    return dict(citation=citing.cite(site_name=current_app.config["SITE_NAME"], title=question.text,
                                     slug=question.slug, permalink=citing.permalink(question.slug, number),
                                     checked_on=question.checked_on, number=number))
