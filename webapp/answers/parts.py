"""What other features add to the pages answers draws (the home page, a question's page).

Graph and search stand above answers (they read its questions), so answers must not
import them; instead each adds its part when the app is made (webapp/__init__.py), and
the page asks for every part here. A part takes the question and returns the template
values it adds (a home part takes nothing); it may also note the visit (the reader's
path, the reading figures)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

from webapp.answers.models import Question

QuestionPart = Callable[[Question], dict]
HomePart = Callable[[], dict]


@dataclass
class Parts:
    question: list[QuestionPart] = field(default_factory=list)
    home: list[HomePart] = field(default_factory=list)


def add(app: Flask, question: QuestionPart | None = None, home: HomePart | None = None) -> None:
    parts = app.extensions.setdefault("answer_parts", Parts())
    if question:
        parts.question.append(question)
    if home:
        parts.home.append(home)


def for_question(question: Question) -> dict:
    values: dict = {}
    for part in current_app.extensions.get("answer_parts", Parts()).question:
        values.update(part(question))
    return values


def for_home() -> dict:
    values: dict = {}
    for part in current_app.extensions.get("answer_parts", Parts()).home:
        values.update(part())
    return values
