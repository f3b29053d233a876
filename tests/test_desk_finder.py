"""The desk's related-question finder: what an editor sees for what they type, and how
the database finds it at scale (issue 18: 2.0 s a search at 1,000,000 questions)."""
from __future__ import annotations

import pytest

from tests.apps import query_plan
from tests.test_desk_editing import signed_in_editor
from tests.pages import HTMX
from webapp.answers.models import ANSWERED, UNANSWERED, Question
from webapp.content.naming import text_key
from webapp.desk import finder
from webapp.extensions import db

QUESTIONS = [  # slug, text, answered
    ("vaccines-long", "Do vaccines given to children in their first year cause autism later on?", True),
    ("vaccines-short", "Do vaccines cause autism?", True),
    ("vaccination-open", "Is vaccination safe?", False),
    ("vaccines-mercury", "Do vaccines hold mercury?", True),
    ("tides", "Why are there two tides a day?", True),
    ("percent", "Is 100% of the moon lit at full moon?", True),
]


@pytest.fixture
def questions(app, client):
    with app.app_context():
        for slug, text, answered in QUESTIONS:
            db.session.add(Question(slug=slug, text=text, text_key=text_key(text),
                                    status=ANSWERED if answered else UNANSWERED, summary=""))
        db.session.commit()
    signed_in_editor(app, client)
    return app


def found_slugs(client, typed: str) -> list[str]:
    page = client.get("/desk/questions", query_string={"related_query": typed}, headers=HTMX)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    return sorted((slug for slug, *_ in QUESTIONS if f"pick-related:{slug}\"" in body), key=body.index)


def test_every_word_must_be_in_the_text_part_of_a_word_will_do(questions, client):
    assert found_slugs(client, "vaccin autism") == ["vaccines-short", "vaccines-long"]
    assert found_slugs(client, "Mercury?") == ["vaccines-mercury"]
    assert found_slugs(client, "autism mercury") == []


def test_answered_questions_come_first_then_the_shortest(questions, client):
    assert found_slugs(client, "vaccin") == ["vaccines-short", "vaccines-mercury", "vaccines-long",
                                             "vaccination-open"]


def test_what_is_typed_is_text_not_a_pattern(questions, client):
    assert found_slugs(client, "100%") == ["percent"]
    assert found_slugs(client, "%") == ["percent"]
    assert found_slugs(client, "_") == []


def test_a_common_word_orders_a_bounded_number_of_matches(questions, client, monkeypatch):
    """Past CANDIDATES matches, the best of the first CANDIDATES found are shown: the
    editor still gets answers, and the database sorts a few, not most of the table."""
    monkeypatch.setattr(finder, "CANDIDATES", 2)
    shown = found_slugs(client, "do")
    assert len(shown) == 2 and set(shown) <= {"vaccines-long", "vaccines-short", "vaccines-mercury"}


def test_the_finder_reads_the_trigram_index_on_postgresql(questions):
    with questions.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no trigram index: the finder reads the table there")
        chosen = finder.statement("vaccin autism")
        found = query_plan(str(chosen.compile(db.engine, compile_kwargs={"literal_binds": True})))
        assert "ix_question_text_trigrams" in found, found
