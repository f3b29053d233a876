"""Suggested related questions fill "Want to dive deeper?" up to five, after the curated ones."""
import re
import shutil

import pytest
from sqlalchemy import delete, event, func, select, text

from tests.answer_files import answer
from tests.pages import get, links, part, text_of
from webapp import create_app
from webapp.answers.models import ANSWERED, CURATED, SUGGESTED, Question, RelatedLink
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


SUNSET = """\
---
question: Why are sunsets red when the sky is blue?
slug: red-sunsets
category: science
checked_on: 2026-01-02
sources:
  - title: Scattering of sunlight
    url: https://example.org/scattering
---
At sunset, sunlight crosses far more air: Rayleigh scattering takes the blue light out of it on the way,
and the red and orange light is left [1].

## 1. Why the sky is blue by day
Air molecules scatter short-wavelength blue sunlight far more than red; that scattered blue light is the sky [1].
"""


def suggesting(app) -> dict[str, list[str]]:
    """Each answer that has suggestions: their slugs in order."""
    with app.app_context():
        rows = db.session.execute(
            select(Question.slug, RelatedLink.to_id, RelatedLink.position)
            .join(RelatedLink, RelatedLink.from_id == Question.id).where(RelatedLink.kind == SUGGESTED)
            .order_by(Question.slug, RelatedLink.position)).all()
        slugs = dict(db.session.execute(select(Question.id, Question.slug)).all())
    found: dict[str, list[str]] = {}
    for slug, to_id, _position in rows:
        found.setdefault(slug, []).append(slugs[to_id])
    return found


def test_an_import_suggests_again_around_what_it_changed_and_leaves_the_other_answers_alone(demo, runner, content_dir):
    # Recomputing every answer's suggestions after each import took 0.4 s an answer at
    # 1,000,000 questions: days for one new file. Forgotten beforehand, the suggestions
    # show which answers the import recomputed.
    with demo.app_context():
        db.session.execute(delete(RelatedLink).where(RelatedLink.kind == SUGGESTED))
        db.session.commit()
        answered = db.session.scalar(select(func.count()).select_from(Question).where(Question.status == ANSWERED))
    (content_dir / "red-sunsets.md").write_text(SUNSET)
    result = runner.invoke(args=["content", "import", str(content_dir)])
    assert result.exit_code == 0, result.output
    around = suggesting(demo)
    assert "red-sunsets" in around["why-is-the-sky-blue"]  # a neighbour now suggests the new answer
    assert "why-is-the-sky-blue" in around["red-sunsets"]  # and the new answer its neighbour
    assert "goldfish-memory" not in around and len(around) < answered / 2  # the far ones untouched
    # What the import computed for those answers is what recomputing all of them gives.
    assert runner.invoke(args=["graph", "suggest"]).exit_code == 0
    everything = suggesting(demo)
    assert "goldfish-memory" in everything and len(everything) > 2 * len(around)
    assert {slug: everything[slug] for slug in around} == around


def test_suggesting_for_every_answer_keeps_each_finished_batch_when_it_stops(demo, monkeypatch):
    # A run over a million answers takes hours: stopped part way, what it finished stays.
    from webapp.search import service

    calls = []
    similar = service.similar_answered

    def failing_on_the_tenth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 10:
            raise RuntimeError("the database went away")
        return similar(*args, **kwargs)

    monkeypatch.setattr(suggestions, "BATCH", 4)
    monkeypatch.setattr(service, "similar_answered", failing_on_the_tenth)
    with demo.app_context():
        db.session.execute(delete(RelatedLink).where(RelatedLink.kind == SUGGESTED))
        db.session.commit()
        first = db.session.scalars(select(Question.id).where(Question.status == ANSWERED)
                                   .order_by(Question.id).limit(12)).all()
        with pytest.raises(RuntimeError):
            suggestions.refresh(db.session)
        db.session.rollback()
        kept = set(db.session.scalars(select(RelatedLink.from_id).where(RelatedLink.kind == SUGGESTED)))
    assert kept <= set(first[:8]) and len(kept) >= 6  # two whole batches (an answer may have five curated)
    assert not kept & set(first[8:])
