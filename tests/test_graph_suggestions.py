"""Suggested related questions fill "Want to dive deeper?" up to five, after the curated ones."""
import re
import shutil

from sqlalchemy import select, text

from tests.answer_files import answer
from tests.pages import get, links, part, text_of
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
