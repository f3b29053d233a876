"""Operators' commands whose effect nothing else shows: `flask search optimize`,
`flask graph suggest`, `flask demo synth`, and the refresh of suggested related
questions after `flask content import`."""
from sqlalchemy import delete, func, select

from tests.answer_files import answer
from tests.pages import result_links, text_of
from webapp.answers.models import ANSWERED, Question, RelatedLink
from webapp.extensions import db
from webapp.search.engine import engine_name

SKY = "why-is-the-sky-blue"


def suggested_links(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RelatedLink).where(RelatedLink.kind == "suggested"))


def forget_suggestions(app) -> None:
    with app.app_context():
        db.session.execute(delete(RelatedLink).where(RelatedLink.kind == "suggested"))
        db.session.commit()


def test_search_optimize_merges_the_index_and_search_still_answers(demo, client, runner):
    with demo.app_context():  # each commit adds a small segment (merged only offline)
        for slug in (SKY, "goldfish-memory"):
            db.session.scalar(select(Question).where(Question.slug == slug)).summary = f"Edited {slug} [1]."
            db.session.commit()
    whoosh = engine_name(demo) == "whoosh"
    if whoosh:
        index = demo.extensions["search"].index
        assert len(index.open()._segments()) > 1
    result = runner.invoke(args=["search", "optimize"])
    assert result.exit_code == 0 and "optimized" in result.output
    if whoosh:
        assert len(index.open()._segments()) == 1
    assert result_links(text_of(client.get("/search?q=rayleigh"))) == [f"/q/{SKY}"]
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_graph_suggest_fills_every_answer_again(demo, runner, client):
    before = suggested_links(demo)
    assert before > 0
    forget_suggestions(demo)
    assert 'data-kind="suggested"' not in text_of(client.get(f"/q/{SKY}"))
    result = runner.invoke(args=["graph", "suggest"])
    with demo.app_context():
        answered = db.session.scalar(select(func.count()).select_from(Question).where(Question.status == ANSWERED))
    assert result.exit_code == 0 and f"suggestions computed for {answered} answers" in result.output
    assert suggested_links(demo) == before  # the same as the import computed
    assert 'data-kind="suggested"' in text_of(client.get(f"/q/{SKY}"))


def corpus(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(Question.slug, Question.text, Question.summary, Question.status)
                                  .order_by(Question.slug)).all()


def start_again(app) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.create_all()


def test_demo_synth_makes_count_questions_and_the_same_seed_the_same_corpus(app, runner):
    result = runner.invoke(args=["demo", "synth", "--count", "40", "--seed", "7", "--no-index"])
    assert result.exit_code == 0 and "generated 40 questions" in result.output
    first = corpus(app)
    assert len(first) == 40
    start_again(app)
    runner.invoke(args=["demo", "synth", "--count", "40", "--seed", "7", "--no-index"])
    assert corpus(app) == first
    start_again(app)
    runner.invoke(args=["demo", "synth", "--count", "40", "--seed", "8", "--no-index"])
    other = corpus(app)
    assert len(other) == 40 and other != first


def test_demo_synth_indexes_what_it_made(app, runner, client):
    result = runner.invoke(args=["demo", "synth", "--count", "30", "--seed", "3"])
    assert result.exit_code == 0 and "indexed 30 questions" in result.output
    slug, text = corpus(app)[0][:2]
    page = text_of(client.get("/search", query_string={"q": f'"{text.rstrip("?")}"'}))
    assert f"/q/{slug}" in result_links(page)


ALIKE = [  # answers about one subject, with no related questions of their own
    ("tides-moon", "Does the moon cause the tides?"),
    ("tides-sun", "Does the sun cause tides too?"),
    ("tides-spring", "What are spring tides?"),
]


def test_content_import_refreshes_suggested_related_questions_only_when_something_changed(app, runner, content_dir):
    for slug, question in ALIKE:
        (content_dir / f"{slug}.md").write_text(answer(slug, question))
    result = runner.invoke(args=["content", "import", str(content_dir)])
    assert result.exit_code == 0, result.output
    assert suggested_links(app) > 0  # the import asked graph to suggest again
    forget_suggestions(app)
    again = runner.invoke(args=["content", "import", str(content_dir)])  # nothing new
    assert again.exit_code == 0, again.output
    assert suggested_links(app) == 0  # not refreshed: the suggestions forgotten stay forgotten
    (content_dir / "tides-neap.md").write_text(answer("tides-neap", "What are neap tides?"))
    runner.invoke(args=["content", "import", str(content_dir)])
    assert suggested_links(app) > 0
