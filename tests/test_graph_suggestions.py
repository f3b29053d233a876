"""Suggested related questions fill "Want to dive deeper?" up to five, after the curated ones."""
import re
import shutil

import pytest
from sqlalchemy import event, select, text

from tests.answer_files import answer
from tests.pages import get, links, part, text_of
from webapp import create_app
from webapp.answers.models import CURATED, SUGGESTED, Question, RelatedLink
from webapp.content.importer import import_folder
from webapp.extensions import db
from webapp.graph import suggestions
from webapp.search.engine import engine_name


def related_entries(client, slug):
    page = text_of(get(client, f"/q/{slug}"))
    section = part(page, '<section class="related"')
    entries = re.findall(r"<li class=\"question-item\"([^>]*)>(.*?)</li>", section, re.S)
    return [(links(body)[0][0], "suggested" in attributes) for attributes, body in entries]


def test_every_answer_lists_five_curated_first_then_suggested_answered_questions(demo, client):
    with demo.app_context():
        answered = db.session.scalars(select(Question).where(Question.status == "answered")).all()
        expected = {q.slug: [f"/q/{link.to_question.slug}" for link in q.curated_links] for q in answered}
        statuses = {f"/q/{q.slug}": q.status for q in db.session.scalars(select(Question))}
    for slug, curated in expected.items():
        entries = related_entries(client, slug)
        hrefs = [href for href, _ in entries]
        assert len(entries) == max(5, len(curated)), slug
        assert hrefs[: len(curated)] == curated  # the file's order first
        assert len(set(hrefs)) == len(hrefs) and f"/q/{slug}" not in hrefs
        for href, suggested in entries[len(curated):]:
            assert suggested and statuses[href] == "answered"


def test_suggestions_are_stored_not_computed_per_request(demo, client):
    before = related_entries(client, "why-is-the-sky-blue")
    if engine_name(demo) == "whoosh":
        index = demo.extensions["search"].index
        index.forget_searcher()
        shutil.rmtree(index.path)  # no index at all: the page still shows its suggestions
    else:
        with demo.app_context():
            db.session.execute(text("DELETE FROM search_document"))  # no documents at all
            db.session.commit()
    assert related_entries(client, "why-is-the-sky-blue") == before


def test_a_question_with_five_curated_links_gets_no_suggestions(app, content_dir):
    for n in range(1, 7):
        related = [f"slug: q{m}" for m in range(1, 7) if m != n] if n == 1 else []
        (content_dir / f"q{n}.md").write_text(answer(f"q{n}", f"Question number {n} about tides?", related=related))
    with app.app_context():
        import_folder(db.session, content_dir)
        suggestions.refresh(db.session)
        kinds = db.session.execute(select(Question.slug, RelatedLink.kind)
                                   .join(RelatedLink, RelatedLink.from_id == Question.id)).all()
    assert [k for slug, k in kinds if slug == "q1"] == [CURATED] * 5
    assert all(k == SUGGESTED for slug, k in kinds if slug != "q1")
    assert sum(1 for slug, _ in kinds if slug == "q2") == 5  # the others are filled from the text


def test_refreshing_one_questions_suggestions_reads_no_statistic_of_the_whole_corpus(demo, tmp_path):
    # An editor's save refreshes that question's suggestions. How rare each word is came
    # from ts_stat, which reads every document's words: about 24 s at 100,000 questions
    # and minutes at 1,000,000, on the first save of every minute in every worker. A
    # second app server on the same database: its first save, nothing kept yet.
    if engine_name(demo) != "postgres":
        pytest.skip("the PostgreSQL engine's statements")
    statements = []

    def record(_connection, _cursor, statement, *_args):
        statements.append(statement)

    other = create_app({key: demo.config[key] for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI",
                                                          "SEARCH_INDEX_DIR", "SITE_URL", "RATELIMIT_STORAGE_URI")})
    with other.app_context():
        sky = db.session.scalar(select(Question).where(Question.slug == "why-is-the-sky-blue"))
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            suggestions.refresh(db.session, ids=[sky.id])
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        suggested = db.session.scalars(select(RelatedLink.to_id).where(
            RelatedLink.from_id == sky.id, RelatedLink.kind == SUGGESTED)).all()
    assert suggested  # it still suggests
    assert statements and not [s for s in statements if "ts_stat" in s or "FROM search_document)" in s]
