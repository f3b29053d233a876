"""What other features add to the pages answers draws (the home page, a question's page).

Graph and search stand above answers (they read its questions), so answers must not
import them; instead each adds its part when the app is made (webapp/__init__.py), and
the page asks for every part here. A part takes the question and returns the template
values it adds (a home part takes nothing).

Two kinds of question part:

- `question`: the reader's own, run on every request; it may note the visit (the
  reader's path, the reading figures).
- `content`: values that follow from content alone (search's similar answers), run only
  when the answer's body is rendered and kept with it in the cache
  (webapp/answers/cache.py) until content changes. Its `settled` check says whether
  what it reads has caught up with the database (the Whoosh index trails a commit until
  its outbox drains): while it has not, the body is rendered but not kept.
- `shared`: values the same for every reader that follow from content and reading
  figures (graph's "went on to read"), kept for `ANSWER_SHARED_SECONDS` under the content
  version, so titles are never older than the last edit and figures at most that late."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

from webapp.answers.models import Question

QuestionPart = Callable[[Question], dict]
HomePart = Callable[[], dict]
Settled = Callable[[], bool]


@dataclass
class Parts:
    question: list[QuestionPart] = field(default_factory=list)
    content: list[QuestionPart] = field(default_factory=list)
    settled: list[Settled] = field(default_factory=list)
    shared: list[QuestionPart] = field(default_factory=list)
    home: list[HomePart] = field(default_factory=list)


def add(app: Flask, question: QuestionPart | None = None, home: HomePart | None = None,
        content: QuestionPart | None = None, settled: Settled | None = None,
        shared: QuestionPart | None = None) -> None:
    parts = app.extensions.setdefault("answer_parts", Parts())
    if question:
        parts.question.append(question)
    if content:
        parts.content.append(content)
    if settled:
        parts.settled.append(settled)
    if shared:
        parts.shared.append(shared)
    if home:
        parts.home.append(home)


def for_question(question: Question) -> dict:
    values: dict = {}
    for part in current_app.extensions.get("answer_parts", Parts()).question:
        values.update(part(question))
    return values


def content_for(question: Question) -> dict:
    values: dict = {}
    for part in current_app.extensions.get("answer_parts", Parts()).content:
        values.update(part(question))
    return values


def shared_for(question: Question) -> dict:
    values: dict = {}
    for part in current_app.extensions.get("answer_parts", Parts()).shared:
        values.update(part(question))
    return values


def has_shared() -> bool:
    return bool(current_app.extensions.get("answer_parts", Parts()).shared)


def content_settled() -> bool:
    return all(check() for check in current_app.extensions.get("answer_parts", Parts()).settled)


def for_home() -> dict:
    values: dict = {}
    for part in current_app.extensions.get("answer_parts", Parts()).home:
        values.update(part())
    return values
