"""`flask content import` and `export`: upserts, rejections, and the round trip."""
import collections
import filecmp
import gc

from sqlalchemy import event, func, select

from tests.answer_files import VALID, answer, write
from tests.apps import DEMO
from tests.pages import text_of
from webapp.answers.models import Category, Question, RelatedLink, Section
from webapp.content import exporter
from webapp.content.importer import import_folder
from webapp.content.parser import parse
from webapp.extensions import db


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def question(app, slug):
    with app.app_context():
        found = db.session.scalar(select(Question).where(Question.slug == slug))
        if found:
            db.session.expunge(found)
        return found


def test_demo_content_imports_whole_and_forms_one_connected_graph(app, runner):
    result = runner.invoke(args=["content", "import", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "created 30, updated 0, unchanged 0, rejected 0" in result.output
    assert count(app, Question, Question.status == "answered") >= 30
    assert count(app, Question, Question.status == "unanswered") >= 15
    assert count(app, Category) >= 5
    with app.app_context():
        edges = db.session.execute(select(RelatedLink.from_id, RelatedLink.to_id)).all()
        ids = set(db.session.scalars(select(Question.id)))
    neighbours = collections.defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    start = next(iter(ids))
    seen, todo = {start}, [start]
    while todo:
        for other in neighbours[todo.pop()] - seen:
            seen.add(other)
            todo.append(other)
    assert seen == ids


def test_importing_again_changes_nothing(app, runner):
    runner.invoke(args=["content", "import", str(DEMO)])
    before = question(app, "why-is-the-sky-blue").updated_at
    result = runner.invoke(args=["content", "import", str(DEMO)])
    assert "created 0, updated 0, unchanged 30, rejected 0" in result.output
    assert question(app, "why-is-the-sky-blue").updated_at == before


def test_a_rejected_file_writes_nothing_and_the_others_still_import(app, runner, content_dir):
    write(content_dir, "good.md")
    write(content_dir, "bad.md", **{"slug: lightning-twice": "slug: bad-one", "category: science": "category: newcat",
                                    "again and again [1] [2].": "again and again [1] [7]."})
    result = runner.invoke(args=["content", "import", str(content_dir)])
    assert result.exit_code == 1
    assert "bad.md:16: citation [7] but only 2 sources" in result.output
    assert "created 1, updated 0, unchanged 0, rejected 1" in result.output
    assert question(app, "lightning-twice") is not None
    assert question(app, "bad-one") is None
    assert count(app, Category, Category.slug == "newcat") == 0


def test_a_changed_file_updates_its_question_in_place(app, content_dir):
    path = write(content_dir, "a.md")
    with app.app_context():
        import_folder(db.session, content_dir)
    first = question(app, "lightning-twice")
    write(content_dir, "a.md", **{"Seek shelter indoors [1].": "Stay inside for 30 minutes [2].",
                                  "## 1. Why tall structures are struck\nTowers offer the shortest path [2].\n\n": ""})
    with app.app_context():
        report = import_folder(db.session, content_dir)
        assert report.updated == ["a.md"]
        bodies = db.session.scalars(select(Section.body).where(Section.question_id == first.id)).all()
    assert bodies == ["Stay inside for 30 minutes [2]."]
    assert question(app, "lightning-twice").id == first.id
    assert path.exists()


def test_related_text_matches_a_question_ignoring_case_spaces_and_end_punctuation(app, content_dir):
    write(content_dir, "a.md", answer("a", "Is the sky blue?"))
    write(content_dir, "b.md", answer("b", "Why is grass green?", related=['"  is  THE sky blue "']))
    with app.app_context():
        report = import_folder(db.session, content_dir)
        assert not report.rejected
    assert count(app, Question) == 2
    with app.app_context():
        link = db.session.scalar(select(RelatedLink))
        assert link.to_question.slug == "a"


def test_an_unmatched_related_text_creates_an_unanswered_question(app, content_dir):
    write(content_dir, "a.md")
    with app.app_context():
        import_folder(db.session, content_dir)
    created = question(app, "how-often-is-a-skyscraper-struck-by-lightning")
    assert created.status == "unanswered"
    assert created.file_name is None


def test_an_unanswered_question_given_its_own_file_keeps_its_links(app, content_dir):
    write(content_dir, "a.md")
    with app.app_context():
        import_folder(db.session, content_dir)
    placeholder = question(app, "how-often-is-a-skyscraper-struck-by-lightning")
    write(content_dir, "b.md", answer("skyscrapers", "How often is a skyscraper struck by lightning?"))
    with app.app_context():
        report = import_folder(db.session, content_dir)
        # The question existed (unanswered); its file answers it, so it counts as updated.
        assert report.updated == ["b.md"] and report.unchanged == ["a.md"]
    answered = question(app, "skyscrapers")
    assert answered.id == placeholder.id and answered.status == "answered"
    assert count(app, RelatedLink, RelatedLink.to_id == answered.id) == 1


def test_related_slug_that_names_nothing_is_rejected_with_files_that_lean_on_it(app, content_dir):
    write(content_dir, "a.md", answer("a", "Question A?", related=["slug: missing"]))
    write(content_dir, "b.md", answer("b", "Question B?", related=["slug: a"]))
    write(content_dir, "c.md", answer("c", "Question C?", related=["slug: b"]))
    with app.app_context():
        report = import_folder(db.session, content_dir)
    assert report.rejected == [
        "a.md:10: related slug 'missing' names no question",
        "b.md:10: related slug 'a' names no question",
        "c.md:10: related slug 'b' names no question",
    ]
    assert count(app, Question) == 0


def test_forward_references_between_files_in_one_folder_resolve(app, content_dir):
    write(content_dir, "a.md", answer("a", "Question A?", related=["slug: b"]))
    write(content_dir, "b.md", answer("b", "Question B?", related=["slug: a"]))
    with app.app_context():
        report = import_folder(db.session, content_dir)
    assert report.created == ["a.md", "b.md"]
    assert count(app, RelatedLink) == 2


def test_self_links_duplicate_links_and_duplicate_slugs_are_rejected(app, content_dir):
    write(content_dir, "a.md", answer("a", "Question A?", related=["slug: a"]))
    write(content_dir, "b.md", answer("b", "Question B?", related=['"Question C"', "slug: c"]))
    write(content_dir, "c.md", answer("c", "Question C?"))
    write(content_dir, "d.md", answer("c", "Another question?"))
    with app.app_context():
        report = import_folder(db.session, content_dir)
    messages = "\n".join(report.rejected)
    assert "a.md:10: a question cannot be related to itself" in messages
    assert "b.md:11: this related question is listed twice" in messages
    assert "d.md:3: slug 'c' is already used by c.md" in messages
    assert report.created == ["c.md"]


def test_a_file_that_is_not_utf8_is_rejected(app, content_dir):
    (content_dir / "latin.md").write_bytes(VALID.replace("Yes:", "Oui, \xe9t\xe9:").encode("latin-1"))
    with app.app_context():
        report = import_folder(db.session, content_dir)
    assert report.rejected == ["latin.md:16: the file is not UTF-8 text"]


def test_a_readme_in_the_folder_is_not_an_answer(app, content_dir):
    (content_dir / "README.md").write_text("# About this folder\n")
    write(content_dir, "a.md")
    with app.app_context():
        report = import_folder(db.session, content_dir)
    assert report.created == ["a.md"] and not report.rejected


def test_import_of_a_missing_folder_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["content", "import", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "is not a folder" in result.output


def test_demo_import_then_export_gives_the_same_files_back(app, runner, tmp_path):
    runner.invoke(args=["content", "import", str(DEMO)])
    out = tmp_path / "out"
    result = runner.invoke(args=["content", "export", str(out)])
    assert "exported 30 files" in result.output
    names = sorted(p.name for p in DEMO.glob("*.md") if p.name != "README.md")
    match, mismatch, errors = filecmp.cmpfiles(DEMO, out, names, shallow=False)
    assert mismatch == [] and errors == []
    assert sorted(p.name for p in out.iterdir()) == names


def test_export_then_import_changes_nothing(app, runner, content_dir, tmp_path):
    write(content_dir, "a.md", VALID.replace("slug: lightning-twice\n", "").replace("    published: 2023-06-01\n", ""))
    runner.invoke(args=["content", "import", str(content_dir)])
    out = tmp_path / "out"
    runner.invoke(args=["content", "export", str(out)])
    result = runner.invoke(args=["content", "import", str(out)])
    assert "created 0, updated 0, unchanged 1, rejected 0" in result.output
    original, exported = parse("a.md", (content_dir / "a.md").read_text()), parse("a.md", (out / "a.md").read_text())
    assert exported == original
    assert "slug:" not in (out / "a.md").read_text()  # the same keys as the file had


def test_export_holds_one_batch_of_questions_at_a_time_not_all(app, content_dir, tmp_path, monkeypatch):
    """At a million questions, holding them all at once was gigabytes: export streams."""
    for n in range(12):
        write(content_dir, f"q{n}.md", answer(f"question-{n}", f"Is question number {n} answered?"))
    monkeypatch.setattr(exporter, "BATCH", 3)
    held = []

    def count_held(_name):
        gc.collect()  # what is no longer referenced leaves the session's identity map
        held.append(sum(isinstance(o, Question) for o in db.session.identity_map.values()))

    with app.app_context():
        import_folder(db.session, content_dir)
        db.session.commit()
        db.session.expunge_all()
        written = exporter.export_folder(db.session, tmp_path / "out", progress=count_held)
    assert written == 12 == len(list((tmp_path / "out").glob("*.md")))
    assert max(held) <= 3, held  # the batch being written, never the 12


def test_a_new_answer_rewrites_its_own_search_document_not_every_one_of_its_category(demo, client, content_dir):
    # A question put in a category made the category "dirty" (its list of questions),
    # and every question of the category had its search document rewritten: at
    # 1,000,000 questions, 80,000 of them for one new file. An import also read every
    # slug there is, to check the few its files name.
    engine = demo.extensions["search"]
    rewritten: set[int] = set()
    changed = engine.changed

    def recording(session, ids, already):
        rewritten.update(ids)
        return changed(session, ids, already)

    statements = []

    def record(_connection, _cursor, statement, *_args):
        statements.append(statement)

    (content_dir / "tides-neap.md").write_text(answer("tides-neap", "What are neap tides?",
                                                      related=["slug: why-is-the-sky-blue"]))
    with demo.app_context():
        science = db.session.scalars(select(Question.id).join(Category).where(Category.slug == "science")).all()
        engine.changed = recording
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            report = import_folder(db.session, content_dir)
        finally:
            engine.changed = changed
            event.remove(db.engine, "before_cursor_execute", record)
        neap = db.session.scalar(select(Question.id).where(Question.slug == "tides-neap"))
    assert report.created == ["tides-neap.md"] and len(science) >= 5
    assert rewritten == {neap}
    assert not [s for s in statements if " ".join(s.split()) == "SELECT question.slug FROM question"]
    assert "/q/tides-neap" in text_of(client.get("/search?q=neap"))


def test_renaming_a_category_rewrites_the_search_documents_of_its_questions(demo, client):
    # Each hit names its category from its search document.
    assert "Science · checked" in text_of(client.get("/search?q=rayleigh"))
    with demo.app_context():
        db.session.scalar(select(Category).where(Category.slug == "science")).name = "Natural science"
        db.session.commit()
    assert "Natural science · checked" in text_of(client.get("/search?q=rayleigh"))
