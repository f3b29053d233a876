"""Answer pages come from a cache, and never show text older than the last committed edit.

A page is first read so that its body is in the cache (`cached`: the second reading
asks the database nothing about sections, sources or related links), then content is
changed the way Plumb changes it (the ORM, an import's bulk statements, another app
instance, another process), and the next reading must show the change: the answer's
own text, and the titles and status of the other questions its lists name."""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select, update

from tests.apps import ROOT, statements_sent
from tests.pages import HTMX, get, links, part, text_of
from tests.readers import sign_in
from webapp import create_app
from webapp.accounts.models import User
from webapp.answers.models import ANSWERED, Category, Question, RelatedLink, Section, Source
from webapp.content.importer import import_folder
from webapp.extensions import db

SKY = "/q/why-is-the-sky-blue"
EMPIRE = "How many times a year is the Empire State Building struck by lightning?"  # unanswered, linked from SKY
GREAT_WALL = "great-wall-visible-from-space"  # links to SKY ("Linked from")
OSTRICH = "/q/how-fast-can-an-ostrich-run"  # an unanswered page
CHECKED = dt.date(2026, 1, 5)
ANSWER_TABLES = re.compile(r"\b(FROM|JOIN)\s+(section|source|related_link)\b", re.I)


# --- helpers -------------------------------------------------------------------------------

def answer_reads(app):
    """The statements that read an answer's sections, sources or related links."""
    return statements_sent(app, ANSWER_TABLES)


def cached(app, client, url: str) -> str:
    """Read `url` twice; the second reading must come from the cache. Its text."""
    assert get(client, url).status_code == 200
    with answer_reads(app) as reads:
        response = get(client, url)
    assert response.status_code == 200
    assert reads == [], f"the second reading of {url} read the answer again: {reads}"
    return text_of(response)


def edit(app, change) -> None:
    """Run `change(session)` and commit it, in a session of its own."""
    with app.app_context():
        change(db.session)
        db.session.commit()
        db.session.remove()


def question(session, slug: str) -> Question:
    return session.scalar(select(Question).where(Question.slug == slug))


def item_of(text: str, title: str) -> str:
    """The list item that names `title`."""
    found = [i for i in re.findall(r'<li class="question-item"[^>]*>(.*?)</li>', text, re.S) if title in i]
    assert found, f"no list item names {title!r}"
    return found[0]


def settings_of(app, **extra) -> dict:
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR", "SEARCH_ENGINE", "SITE_URL",
            "SEARCH_REBUILD_IN_BACKGROUND", "RATELIMIT_STORAGE_URI")
    return {key: app.config[key] for key in keys} | extra


@pytest.fixture
def shared_cache(tmp_path) -> dict:
    """A cache several app instances (and processes) share: Redis where the suite has one,
    else a folder (Flask-Caching's FileSystemCache stands in for it)."""
    prefix = f"plumb-test-{os.getpid()}-{tmp_path.name}:"
    if os.environ.get("TEST_REDIS_URL"):
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": os.environ["TEST_REDIS_URL"], "CACHE_KEY_PREFIX": prefix}
    return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path / "cache"), "CACHE_KEY_PREFIX": prefix}


# --- the answer's own text -------------------------------------------------------------------

def test_an_edited_summary_section_and_source_show_at_once(demo, client):
    cached(demo, client, SKY)

    def change(session):
        sky = question(session, "why-is-the-sky-blue")
        sky.summary = "Edited summary: the air scatters blue light most [1]."
        sky.sections[0].heading = "An edited first section"
        sky.sources[0].title = "An edited source title"

    edit(demo, change)
    page = text_of(get(client, SKY))
    assert "Edited summary: the air scatters blue light most" in part(page, '<section class="summary"')
    assert "An edited first section" in page
    assert "An edited source title" in part(page, '<section class="sources"')


def test_an_import_that_rewrites_the_answer_shows_at_once(demo, client, demo_copy):
    """The importer replaces sections and sources with bulk statements, not the ORM."""
    cached(demo, client, SKY)
    path = demo_copy / "why-is-the-sky-blue.md"
    text = path.read_text(encoding="utf-8").replace("## Sunlight is a mix of colours", "## Sunlight, a mixture")
    path.write_text(text, encoding="utf-8")
    with demo.app_context():
        report = import_folder(db.session, demo_copy)
    assert report.updated == ["why-is-the-sky-blue.md"]
    page = text_of(get(client, SKY))
    assert "Sunlight, a mixture" in page and "Sunlight is a mix of colours" not in page


def test_a_bulk_update_through_the_session_shows_at_once(demo, client):
    cached(demo, client, SKY)
    with demo.app_context():
        sky_id = question(db.session, "why-is-the-sky-blue").id
    edit(demo, lambda s: s.execute(update(Section).where(Section.question_id == sky_id, Section.position == 2)
                                   .values(heading="Scattering, edited in bulk")))
    assert "Scattering, edited in bulk" in text_of(get(client, SKY))


def test_a_renamed_category_shows_in_the_breadcrumb(demo, client):
    cached(demo, client, SKY)
    edit(demo, lambda s: setattr(s.scalar(select(Category).where(Category.slug == "science")), "name", "Sciences"))
    page = text_of(get(client, SKY))
    assert ("/c/science", "Sciences") in links(part(page, 'class="breadcrumb"', "</nav>"))


def test_an_edit_that_is_rolled_back_changes_nothing(demo, client):
    before = cached(demo, client, SKY)
    with demo.app_context():
        question(db.session, "why-is-the-sky-blue").summary = "Never committed."
        db.session.flush()
        db.session.rollback()
    after = cached(demo, client, SKY)
    assert "Never committed." not in after
    assert part(after, '<section class="summary"') == part(before, '<section class="summary"')


# --- other questions the lists name ----------------------------------------------------------

def test_a_related_question_renamed_or_answered_shows_at_once(demo, client):
    page = cached(demo, client, SKY)
    assert "not answered yet" in item_of(page, EMPIRE)

    edit(demo, lambda s: setattr(s.scalar(select(Question).where(Question.text == EMPIRE)), "text",
                                 "How often is the Empire State Building struck?"))
    page = cached(demo, client, SKY)
    assert EMPIRE not in page
    assert "not answered yet" in item_of(page, "How often is the Empire State Building struck?")

    def answer_it(session):
        empire = session.scalar(select(Question).where(Question.text == "How often is the Empire State Building struck?"))
        empire.status, empire.summary, empire.checked_on = ANSWERED, "About twenty times [1].", CHECKED
        session.add(Source(question=empire, number=1, title="A source", url="https://example.org/empire"))

    edit(demo, answer_it)
    item = item_of(text_of(get(client, SKY)), "How often is the Empire State Building struck?")
    assert "not answered yet" not in item and "checked" in item


def test_a_question_that_links_here_renamed_shows_in_linked_from(demo, client):
    page = cached(demo, client, SKY)
    assert "Can you see the Great Wall of China from space?" in part(page, '<section class="linked-from"')
    edit(demo, lambda s: setattr(question(s, GREAT_WALL), "text", "Is the Great Wall visible from orbit?"))
    linked_from = part(text_of(get(client, SKY)), '<section class="linked-from"')
    assert "Is the Great Wall visible from orbit?" in linked_from
    assert "Can you see the Great Wall of China from space?" not in linked_from


def test_a_removed_link_leaves_both_pages(demo, client):
    page = cached(demo, client, SKY)
    assert EMPIRE in page

    def unlink(session):
        empire = session.scalar(select(Question).where(Question.text == EMPIRE))
        for link in session.scalars(select(RelatedLink).where(RelatedLink.to_id == empire.id)):
            session.delete(link)

    edit(demo, unlink)
    assert EMPIRE not in text_of(get(client, SKY))


def test_an_unanswered_page_shows_its_renamed_related_questions(demo, client):
    page = cached(demo, client, OSTRICH)
    linked_from = part(page, '<section class="linked-from"')
    title = links(linked_from)[0][1]
    with demo.app_context():
        slug = db.session.scalar(select(Question.slug).where(Question.text == title))
    edit(demo, lambda s: setattr(question(s, slug), "text", "A renamed question that links to the ostrich"))
    page = text_of(get(client, OSTRICH))
    assert "A renamed question that links to the ostrich" in part(page, '<section class="linked-from"')


def test_an_unanswered_question_that_is_answered_becomes_an_answer_page(demo, client):
    cached(demo, client, OSTRICH)

    def answer_it(session):
        ostrich = question(session, "how-fast-can-an-ostrich-run")
        ostrich.status, ostrich.summary, ostrich.checked_on = ANSWERED, "About 70 km/h [1].", CHECKED
        session.add(Source(question=ostrich, number=1, title="Ostrich speed", url="https://example.org/ostrich"))

    edit(demo, answer_it)
    page = text_of(get(client, OSTRICH))
    assert "Not answered yet." not in page and "About 70 km/h" in page


# --- other app instances and processes ------------------------------------------------------

def test_an_edit_through_another_app_instance_shows_on_this_one(demo, shared_cache):
    """Two servers on one database and one cache; each keeps its own pages too."""
    here = create_app(settings_of(demo, **shared_cache))
    there = create_app(settings_of(demo, **shared_cache))
    reader, other_reader = here.test_client(), there.test_client()
    cached(here, reader, SKY)
    cached(there, other_reader, SKY)
    edit(there, lambda s: setattr(question(s, "why-is-the-sky-blue"), "summary", "Edited on the other server [1]."))
    assert "Edited on the other server" in text_of(get(reader, SKY))
    assert "Edited on the other server" in text_of(get(other_reader, SKY))
    # The page rendered once after the edit is shared: the other server reads it from the cache.
    with answer_reads(there) as reads:
        assert get(other_reader, SKY).status_code == 200
    assert reads == []


def test_an_edit_committed_by_another_process_shows_at_once(demo, client, shared_cache):
    here = create_app(settings_of(demo, **shared_cache))
    reader = here.test_client()
    page = cached(here, reader, SKY)
    assert "Can you see the Great Wall of China from space?" in page
    script = textwrap.dedent(f"""
        import sys
        from sqlalchemy import select
        from webapp import create_app
        from webapp.answers.models import Question
        from webapp.extensions import db
        app = create_app({settings_of(demo, **shared_cache)!r})
        with app.app_context():
            wall = db.session.scalar(select(Question).where(Question.slug == {GREAT_WALL!r}))
            wall.text = "Renamed by another process"
            sky = db.session.scalar(select(Question).where(Question.slug == "why-is-the-sky-blue"))
            sky.summary = "Edited by another process [1]."
            db.session.commit()
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    page = text_of(get(reader, SKY))
    assert "Edited by another process" in page
    assert "Renamed by another process" in part(page, '<section class="linked-from"')


# --- what differs between readers, and a cache that fails ------------------------------------

def test_the_answer_is_the_same_with_or_without_the_cache(demo, client):
    uncached = create_app(settings_of(demo, CACHE_TYPE="NullCache", CACHE_NO_NULL_WARNING=True)).test_client()
    for url in (SKY, OSTRICH):
        with_cache, without = cached(demo, client, url), text_of(get(uncached, url))
        for start in ("<header>", '<section class="sources"', '<section class="linked-from"', "<title>"):
            if start in without:
                end = "</title>" if start == "<title>" else "</header>" if start == "<header>" else "</section>"
                assert part(with_cache, start, end) == part(without, start, end)


def test_an_htmx_request_gets_the_cached_body_inside_the_content_block(demo, client):
    cached(demo, client, SKY)
    fragment = text_of(client.get(SKY, headers=HTMX))
    assert "<html" not in fragment and "<title>" not in fragment
    assert '<section class="summary"' in fragment and 'class="breadcrumb"' in fragment
    assert 'id="trail"' in fragment  # the reader's own part, around it


def test_an_editor_sees_suggested_links_marked_whoever_read_first(demo, client):
    page = cached(demo, client, SKY)
    assert "suggested automatically" not in page
    editor_client = demo.test_client()
    user_id = sign_in(demo, editor_client, email="editor@example.org")
    edit(demo, lambda s: setattr(s.get(User, user_id), "is_editor", True))
    assert "suggested automatically" in text_of(get(editor_client, SKY))
    assert "suggested automatically" not in text_of(get(client, SKY))


def test_a_cache_that_fails_leaves_pages_whole_and_says_so_once(demo, caplog):
    # Nothing listens on port 9 (discard); the cache is asked, fails, and is skipped.
    broken = create_app(settings_of(demo, CACHE_TYPE="RedisCache", CACHE_REDIS_URL="redis://127.0.0.1:9/0"))
    client = broken.test_client()
    caplog.set_level(logging.ERROR, logger="webapp.answers.cache")
    for _ in range(3):
        for url in (SKY, OSTRICH):
            response = get(client, url)
            assert response.status_code == 200
            assert "<h1>" in text_of(response) and "Something went wrong" not in text_of(response)
    failures = [r.getMessage() for r in caplog.records if r.name == "webapp.answers.cache"]
    assert len(failures) == 1 and "pages render without it" in failures[0], failures


def test_similar_answers_on_an_unanswered_page_follow_a_renamed_answer(demo, client):
    page = cached(demo, client, OSTRICH)
    similar = part(page, '<section class="similar"')
    href, title = links(similar)[0]
    slug = href.rsplit("/", 1)[-1]
    renamed = f"{title.rstrip('?')}, renamed?"
    edit(demo, lambda s: setattr(question(s, slug), "text", renamed))
    similar = part(text_of(get(client, OSTRICH)), '<section class="similar"')
    assert (href, renamed) in links(similar)


@pytest.mark.parametrize("caught_up, renders", [(True, 1), (False, 3)])
def test_a_body_is_kept_only_once_what_its_content_parts_read_has_caught_up(demo, client, caught_up, renders):
    """Search's similar answers read the Whoosh index, which trails a commit until its
    outbox drains: while it does, the page is rendered each time rather than kept."""
    from webapp.answers import parts

    rendered: list[int] = []
    parts.add(demo, content=lambda q: rendered.append(q.id) or {}, settled=lambda: caught_up)
    for _ in range(3):
        assert get(client, OSTRICH).status_code == 200
    assert len(rendered) == renders


def test_shared_parts_are_kept_a_while_but_never_show_an_older_title(demo, client):
    """Graph's "went on to read" changes with every reader counted: kept for a short
    while (ANSWER_SHARED_SECONDS), under the content version, so a renamed question
    shows at once."""
    from webapp.answers import parts

    computed: list[int] = []

    def went_on(q):
        computed.append(q.id)
        return dict(went_on=[question(db.session, GREAT_WALL)]) if q.answered else {}

    demo.config["ANSWER_SHARED_SECONDS"] = 60
    parts.add(demo, shared=went_on)
    for _ in range(3):
        page = text_of(get(client, SKY))
    assert len(computed) == 1
    assert "Can you see the Great Wall of China from space?" in part(page, '<section class="went-on"')
    edit(demo, lambda s: setattr(question(s, GREAT_WALL), "text", "Is the Great Wall visible from orbit?"))
    assert "Is the Great Wall visible from orbit?" in part(text_of(get(client, SKY)), '<section class="went-on"')


# --- found in review: releases, a hanging cache, a rebuilt index, a race, two writers ---

def test_a_new_release_draws_its_own_bodies_though_the_cache_outlives_the_old(demo, shared_cache):
    """Redis outlives a deployment (and a rolling one runs both releases at once): a body
    the release before drew must not be served by the next, which may draw it otherwise."""
    old = create_app(settings_of(demo, **shared_cache))
    new = create_app(settings_of(demo, **shared_cache))
    new.extensions["answer_release"] = "a-later-release"  # what a changed template gives
    cached(old, old.test_client(), SKY)
    with answer_reads(new) as reads:
        assert get(new.test_client(), SKY).status_code == 200
    assert reads, "the new release served the body the old one drew"


def test_the_release_changes_with_any_template_or_code(tmp_path, monkeypatch):
    from webapp.answers import cache

    assert cache.release() == cache.release()
    before = cache.release()
    template = ROOT / "templates" / "answers" / "_answer.html"
    original = template.read_bytes()
    try:
        template.write_bytes(original + b"\n")
        assert cache.release() != before
    finally:
        template.write_bytes(original)
    assert cache.release() == before


def test_a_cache_that_fails_is_left_alone_for_a_while(demo, monkeypatch):
    """A Redis that hangs costs each ask its timeout: after one failure the process
    renders without the cache for a while instead of waiting on it page after page."""
    from webapp.extensions import cache

    asked: list[str] = []

    def hanging(*args, **kwargs):
        asked.append("asked")
        raise TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(cache, "get", hanging)
    monkeypatch.setattr(cache, "set", hanging)
    client = demo.test_client()
    for _ in range(5):
        assert get(client, SKY).status_code == 200
        assert get(client, OSTRICH).status_code == 200
    assert asked == ["asked"]


def test_a_question_renamed_between_reading_and_drawing_still_draws(demo):
    """Found in review: the body is drawn after the page read the question, and was
    looked up again by its slug; a rename committed in between broke the page."""
    from webapp.answers import bodies
    from webapp.answers import cache as answer_cache

    with demo.test_request_context(SKY):
        found = question(db.session, "why-is-the-sky-blue")
        version = answer_cache.current_version(db.session)
        db.session.expunge(found)
        db.session.execute(update(Question).where(Question.id == found.id).values(slug="moved-away"))
        db.session.commit()
        drawn = bodies.for_page(db.session, version, found)
        assert found.text in drawn["body"] + drawn.get("header", "") or "In short" in drawn["body"]


def test_similar_answers_are_not_kept_while_the_index_is_rebuilt_and_follow_a_rebuild(demo, client, monkeypatch):
    from webapp.answers import cache as answer_cache
    from webapp.search import service

    rendered: list[int] = []
    from webapp.answers import parts

    parts.add(demo, content=lambda q: rendered.append(q.id) or {})
    monkeypatch.setattr(service, "rebuilding", lambda: True)
    for _ in range(3):
        assert get(client, OSTRICH).status_code == 200
    assert len(rendered) == 3, "kept while the index was being rebuilt"
    monkeypatch.undo()
    with demo.app_context():
        before = answer_cache.current_version(db.session)
        service.engine().rebuild()
        db.session.remove()
        assert answer_cache.current_version(db.session) != before, "a rebuild must draw similar answers again"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row locks: PostgreSQL")
def test_two_writers_of_one_question_never_deadlock_on_the_version(demo):
    """Found in review: the version row was locked before a commit's last flush, so a
    writer that had flushed already and one that had not took the two locks in opposite
    orders. Now the version is always the last lock a transaction takes."""
    import threading

    from sqlalchemy.orm import Session

    with demo.app_context():
        engine = db.engine
    first = Session(engine)
    q = question(first, "why-is-the-sky-blue")
    q.summary = "First writer [1]."
    first.flush()  # holds the question's row
    outcome: dict[str, str] = {}

    def second_writer():
        with Session(engine) as second:
            question(second, "why-is-the-sky-blue").summary = "Second writer [1]."
            try:
                second.commit()  # pending: flushed at commit, waits for the first writer's row
                outcome["second"] = "committed"
            except Exception as error:  # a deadlock, before the fix
                outcome["second"] = type(error).__name__

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(timeout=2)  # it waits on the first writer's row lock
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome == {"second": "committed"}
