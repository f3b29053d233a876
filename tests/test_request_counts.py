"""Each question's answer requests are counted as they come (webapp/graph/demand.py):
/requests and the desk read the most requested from an index, and the counters agree
with the requests whoever writes them."""
import re

import pytest

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tests.apps import query_plan, while_first_holds
from tests.pages import part, text_of
from tests.test_graph_requests import COFFEE, OSTRICH, ask
from webapp.answers.models import ANSWERED, Question
from webapp.asking import service as asking
from webapp.extensions import db
from webapp.graph import demand
from webapp.graph.models import AnswerRequest


def listed(client) -> list[tuple[str, int]]:
    listing = part(text_of(client.get("/requests")), '<section id="request-list"')
    return [(href, int(n)) for href, n in
            re.findall(r'<li><a href="([^"]+)">[^<]*</a>\s*<small class="meta">(\d+) requests?</small>', listing)]


def question(slug: str) -> Question:
    return db.session.scalar(select(Question).where(Question.slug == slug))


def counters() -> dict[str, int]:
    return dict(db.session.execute(select(Question.slug, Question.request_count).where(Question.request_count > 0)).all())


def test_requests_from_every_writer_are_counted_and_listed(demo, app, client):
    for _ in range(2):  # two browsers press "Request an answer"
        ask(app.test_client(), COFFEE)
    with demo.app_context():  # a reader who asked the same question is told when it is answered
        asking.request_for(db.session, question("is-drinking-coffee-dehydrating"), "account:41")
        asking.request_for(db.session, question("how-fast-can-an-ostrich-run"), "account:41")
        db.session.commit()
        assert counters() == {"is-drinking-coffee-dehydrating": 3, "how-fast-can-an-ostrich-run": 1}
        assert demand.check(db.session) == []
    assert listed(client) == [(COFFEE, 3), (OSTRICH, 1)]


def test_a_request_rolled_back_is_not_counted(demo):
    with demo.app_context():
        coffee = question("is-drinking-coffee-dehydrating")
        db.session.add(AnswerRequest(question_id=coffee.id, requester="browser:kept"))
        db.session.commit()
        with db.session.begin_nested():  # a savepoint rolled back
            db.session.add(AnswerRequest(question_id=coffee.id, requester="browser:undone"))
            db.session.flush()
            db.session.rollback()
        db.session.add(AnswerRequest(question_id=coffee.id, requester="browser:abandoned"))
        db.session.flush()
        db.session.rollback()
        assert counters() == {"is-drinking-coffee-dehydrating": 1}


def test_two_readers_asking_at_once_are_both_counted(demo):
    with demo.app_context():
        coffee_id = question("is-drinking-coffee-dehydrating").id
        first, second = Session(db.engine), Session(db.engine)
        first.add(AnswerRequest(question_id=coffee_id, requester="browser:first"))
        first.flush()  # holds the question's row (PostgreSQL) or the database (SQLite)

        def ask_too():
            second.add(AnswerRequest(question_id=coffee_id, requester="browser:second"))
            second.commit()

        while_first_holds(first, ask_too)
        first.close(), second.close()
        assert counters() == {"is-drinking-coffee-dehydrating": 2}


def test_an_answered_question_leaves_the_list_and_keeps_its_count(demo, app, client):
    ask(app.test_client(), COFFEE)
    ask(app.test_client(), OSTRICH)
    with demo.app_context():
        question("is-drinking-coffee-dehydrating").status = ANSWERED
        db.session.commit()
        assert counters()["is-drinking-coffee-dehydrating"] == 1
    assert listed(client) == [(OSTRICH, 1)]


def test_recount_finds_and_puts_right_requests_written_beside_the_app(demo, runner):
    with demo.app_context():
        coffee = question("is-drinking-coffee-dehydrating")
        db.session.execute(insert(AnswerRequest), [dict(question_id=coffee.id, requester=f"browser:{n}") for n in range(3)])
        db.session.commit()
    checked = runner.invoke(args=["graph", "recount", "--check"])
    assert checked.exit_code == 1, checked.output
    assert "1 questions miscounted" in checked.output
    assert "is-drinking-coffee-dehydrating: the counter says 0, the requests 3" in checked.output
    fixed = runner.invoke(args=["graph", "recount"])
    assert fixed.exit_code == 0 and "1 questions corrected" in fixed.output
    assert runner.invoke(args=["graph", "recount", "--check"]).exit_code == 0
    with demo.app_context():
        assert counters() == {"is-drinking-coffee-dehydrating": 3}


def test_the_list_is_read_from_its_index_in_order(demo):
    """At 1,000,000 questions the list must come from the index's front, not from
    grouping every request or sorting every requested question."""
    with demo.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite plans by rules without statistics (it reads ix_question_status here); "
                        "the scale this guards is PostgreSQL's")
        statement = (select(Question.id).where(Question.status == "unanswered", Question.request_count > 0)
                     .order_by(Question.request_count.desc(), Question.text).limit(20))
        found = query_plan(str(statement.compile(db.engine, compile_kwargs={"literal_binds": True})), no_sort=True)
        assert "ix_question_most_requested" in found, found
        assert "Sort" not in found and "TEMP B-TREE" not in found, found
