"""Each category's number of answers, kept as a counter (webapp/answers/counts.py): the home
page and category pages read it instead of counting every question, and it always says
what the questions say, whatever writes them."""
from __future__ import annotations

import random
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from tests.apps import query_plan, while_first_holds
from tests.pages import HTMX, text_of
from webapp.answers import counts, service
from webapp.answers.models import ANSWERED, UNANSWERED, Category, Question
from webapp.extensions import db


def shown_counts(client) -> dict[str, int]:
    page = text_of(client.get("/"))
    return {slug: int(n) for slug, n in re.findall(r'<a href="/c/([\w-]+)">[^<]+</a>\s*<small>(\d+) answers?</small>', page)}


def true_counts() -> dict[str, int]:
    rows = db.session.execute(select(Category.slug, func.count(Question.id)).join(Question)
                              .where(Question.status == ANSWERED).group_by(Category.slug))
    return {slug: n for slug, n in rows}


def test_the_home_page_counts_what_an_import_made(demo, client):
    with demo.app_context():
        assert shown_counts(client) == true_counts() and sum(true_counts().values()) == 30


# Operations on a handful of questions, as editors, imports and deletions make them.
operation = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("status"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 2)),
    st.tuples(st.just("none"), st.integers(0, 30), st.integers(0, 2)),  # no category
    st.tuples(st.just("delete"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("edit"), st.integers(0, 30), st.just(0)),  # a change that moves nothing
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.lists(operation, min_size=1, max_size=4), min_size=1, max_size=5),
       undone=st.lists(st.booleans(), min_size=5, max_size=5))
def test_the_counters_agree_with_the_questions_after_any_writes(app, steps, undone):
    # Hypothesis seeds the global random alike for every example, and Whoosh names its
    # segments from it: the same name again is an index that cannot be written.
    random.seed(uuid.uuid4().int)
    with app.app_context():
        categories = [db.session.scalar(select(Category).where(Category.slug == slug))
                      or Category(slug=slug, name=slug.title()) for slug in ("a", "b", "c")]
        db.session.add_all(categories)
        # Each example starts with no questions (the database outlives the examples).
        db.session.execute(delete(Question))
        db.session.execute(update(Category).values(answered_count=0))
        db.session.commit()
        for flush_number, flush_steps in enumerate(steps):
            # Some flushes happen in a savepoint that is rolled back: their deltas go too.
            savepoint = db.session.begin_nested() if undone[flush_number] else None
            questions = list(db.session.scalars(select(Question).order_by(Question.id)))
            for kind, which, value in flush_steps:
                if kind == "add":
                    made = uuid.uuid4().hex[:12]
                    db.session.add(Question(slug=f"q{made}", text=f"Question {made}?", text_key=f"question {made}",
                                            status=ANSWERED if value else UNANSWERED, category_id=categories[which].id))
                elif questions and (question := questions[which % len(questions)]) not in db.session.deleted:
                    if kind == "status":
                        question.status = ANSWERED if value else UNANSWERED
                    elif kind == "move":
                        question.category = categories[value]
                    elif kind == "none":
                        question.category_id = None
                    elif kind == "delete":
                        db.session.delete(question)
                    elif kind == "edit":
                        question.summary += "!"
            db.session.flush()
            if savepoint:
                savepoint.rollback()
            db.session.expire_all()  # the next flush starts from what the database holds
        db.session.commit()
        assert counts.check(db.session) == []
        kept = {c.slug: c.answered_count for c in db.session.scalars(select(Category))}
        assert {slug: n for slug, n in kept.items() if n} == true_counts()
        # The sitemap's number of answers: the counters and the answers without a category.
        assert counts.answered_total(db.session) == db.session.scalar(
            select(func.count(Question.id)).where(Question.status == ANSWERED))


def test_two_writers_answering_in_one_category_are_both_counted(demo):
    """The counter moves by deltas under the row's lock: neither writer's count is lost,
    and the second waits for the first rather than counting from a stale figure."""
    with demo.app_context():
        before = true_counts()["science"]
        ids = list(db.session.scalars(select(Question.id).join(Category).where(
            Category.slug == "science", Question.status == UNANSWERED).limit(2)))
        if len(ids) < 2:  # the demo's open questions in science, or two made here
            science = db.session.scalar(select(Category).where(Category.slug == "science"))
            for n in range(2):
                db.session.add(Question(slug=f"open-{n}", text=f"Open {n}?", text_key=f"open {n}", category=science))
            db.session.commit()
            ids = list(db.session.scalars(select(Question.id).where(Question.slug.in_(["open-0", "open-1"]))))
        first, second = Session(db.engine), Session(db.engine)
        first.get(Question, ids[0]).status = ANSWERED
        first.flush()  # holds the category's row (PostgreSQL) or the database (SQLite)

        def answer_the_other():
            second.get(Question, ids[1]).status = ANSWERED
            second.commit()

        while_first_holds(first, answer_the_other)
        first.close(), second.close()
        db.session.expire_all()
        assert true_counts()["science"] == before + 2
        assert counts.check(db.session) == []


def test_recount_puts_right_what_was_written_beside_the_app(demo, runner):
    with demo.app_context():
        db.session.execute(text("UPDATE category SET answered_count = 99 WHERE slug = 'science'"))
        db.session.commit()
    result = runner.invoke(args=["content", "recount", "--check"])
    assert result.exit_code == 1 and "science: the counter says 99" in result.output
    result = runner.invoke(args=["content", "recount"])
    assert result.exit_code == 0 and "1 categories corrected" in result.output
    assert runner.invoke(args=["content", "recount", "--check"]).exit_code == 0


def test_a_category_page_counts_its_pages_from_the_counter(demo, client):
    with demo.app_context():
        db.session.execute(text("UPDATE category SET answered_count = 1000 WHERE slug = 'science'"))
        db.session.commit()
    # The counter is what the pager reads: it does not count the category's answers again.
    pages = -(-1000 // demo.config["PAGE_SIZE"])
    assert f"1000 answers, page 1 of {pages}" in text_of(client.get("/c/science", headers=HTMX))


def test_a_category_page_reads_its_answers_in_order_from_an_index(demo):
    """At 1,000,000 questions a category holds ~150,000 answers: its first page must come
    from the index in order, not from sorting all of them."""
    with demo.app_context():
        found = query_plan("SELECT id FROM question WHERE category_id = :c AND status = 'answered' "
                     "ORDER BY checked_on DESC, id DESC LIMIT 20 OFFSET 0", c=1)
    assert "ix_question_category_listing" in found, found
    assert "Sort" not in found and "TEMP B-TREE" not in found, found


def test_the_home_page_reads_no_question_to_count_categories(demo, client):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with demo.app_context():
        from sqlalchemy import event
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            client.get("/")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    counted = [s for s in statements if "count(" in s.lower() and "question" in s.lower()]
    assert counted == [], counted


def test_the_newest_answers_are_read_from_the_index_past_the_unanswered(demo):
    """The home page's newest answers: read backwards, the index on checked_on starts
    with its NULLs, every unanswered question (600 ms at 1,000,000); the condition that
    skips them must be the index's own."""
    with demo.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite plans by rules without statistics (it reads ix_question_status here); "
                        "the scale this guards is PostgreSQL's")
        sql = str(service.recent_answers_query(8).compile(db.engine, compile_kwargs={"literal_binds": True}))
        found = query_plan(sql, no_sort=True)
    assert "ix_question_checked_on" in found, found
    assert "Index Cond: (checked_on IS NOT NULL)" in found, found
