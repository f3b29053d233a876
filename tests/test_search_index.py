"""The index never lies: every committed change reaches it, nothing rolled back does,
crashes and lock contention lose nothing, drift is found and repaired."""
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from whoosh.query import Term

from tests.conftest import ROOT
from tests.pages import result_links, text_of
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search import sync
from webapp.search.models import SearchOutbox

SKY = "why-is-the-sky-blue"


def found(client, q) -> list[str]:
    return result_links(text_of(client.get("/search", query_string={"q": q})))


def question(slug):
    return db.session.scalar(select(Question).where(Question.slug == slug))


def outbox(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SearchOutbox))


def drift(app):
    with app.app_context():
        return sync.check(app.extensions["search_index"], db.engine)


def test_an_edit_is_searchable_as_soon_as_it_is_committed(demo, client):
    with demo.app_context():
        question(SKY).summary = "Now about zeppelins [1]."
        db.session.commit()
    assert found(client, "zeppelins") == [f"/q/{SKY}"]
    assert outbox(demo) == 0 and drift(demo).clean


def test_a_deleted_question_leaves_the_index(demo, client):
    with demo.app_context():
        db.session.delete(question("goldfish-memory"))
        db.session.commit()
    assert "/q/goldfish-memory" not in found(client, "goldfish")
    assert drift(demo).clean


def test_a_rolled_back_change_never_reaches_the_index(demo, client):
    with demo.app_context():
        question(SKY).summary = "About dirigibles [1]."
        db.session.flush()  # the outbox row is written in the transaction...
        assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
        db.session.rollback()  # ...and goes with it
    assert outbox(demo) == 0
    assert found(client, "dirigibles") == []
    assert drift(demo).clean


def test_a_busy_index_lock_leaves_the_change_in_the_outbox_for_the_next_drain(demo, client, runner):
    demo.config["SEARCH_LOCK_TIMEOUT"] = 0.05
    demo.extensions["search_index"].lock_timeout = 0.05
    holder = demo.extensions["search_index"].open().writer()  # another process is writing
    try:
        with demo.app_context():
            question(SKY).summary = "About blimps [1]."
            db.session.commit()  # no error reaches the writer of the change
        assert outbox(demo) == 1
        assert found(client, "blimps") == []
        result = runner.invoke(args=["search", "sync"])
        assert result.exit_code == 1 and "locked" in result.output
    finally:
        holder.cancel()
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "applied 1 change" in result.output
    assert found(client, "blimps") == [f"/q/{SKY}"]


def database_url(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def run_worker(app, *args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tests.search_worker", *args[:1], database_url(app),
         app.config["SEARCH_INDEX_DIR"], *args[1:]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=check,
    )


def test_a_process_killed_between_commit_and_drain_loses_nothing(demo, client, runner):
    process = run_worker(demo, "edit-and-die", SKY, "ornithopters", check=False)
    assert process.returncode == -9, process.stderr
    assert outbox(demo) == 1
    assert drift(demo).stale == [SKY]
    assert runner.invoke(args=["search", "sync"]).exit_code == 0
    assert found(client, "ornithopters") == [f"/q/{SKY}"]
    assert drift(demo).clean


def test_two_processes_writing_at_once_leave_the_index_equal_to_the_database(demo, client, runner):
    first = ["why-is-the-sky-blue", "goldfish-memory", "napoleon-short"]
    second = ["bats-are-blind", "msg-bad-for-you", "five-second-rule"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen([sys.executable, "-m", "tests.search_worker", "edit-many", database_url(demo),
                          demo.config["SEARCH_INDEX_DIR"], prefix, "15", *slugs],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for prefix, slugs in (("alpha", first), ("beta", second))
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err  # no LockError (or anything else) reached the writer
        assert "LockError" not in err and out.strip() == "done"
    runner.invoke(args=["search", "sync"])
    assert drift(demo).clean
    assert found(client, "alphawhyistheskyblue") == [f"/q/{SKY}"]
    assert found(client, "betabatsareblind") == ["/q/bats-are-blind"]


def test_check_finds_drift_and_rebuild_repairs_it(demo, runner):
    index = demo.extensions["search_index"]
    writer = index.open().writer()
    writer.delete_by_term("slug", "goldfish-memory")  # a document lost
    writer.update_document(id="99999", slug="ghost", question="A ghost", version="x")  # one that should not be
    writer.commit()
    with demo.app_context():
        sky_id = str(question(SKY).id)
    writer = index.open().writer()
    with index.searcher() as searcher:
        stored = dict(searcher.document(id=sky_id))
    writer.update_document(**{**stored, "version": "old"})  # a stale copy
    writer.commit()

    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "missing: 1 (goldfish-memory)" in result.output
    assert "extra: 1 (ghost)" in result.output
    assert f"stale: 1 ({SKY})" in result.output

    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "indexed 50 questions" in result.output
    after = runner.invoke(args=["search", "check"])
    assert after.exit_code == 0, after.output


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_missing_or_unreadable_index_is_rebuilt_at_start_up(demo, client, damage):
    index = demo.extensions["search_index"]
    index.forget_searcher()
    tocs = list(index.path.glob("_MAIN_*.toc"))
    for toc in tocs:
        if damage == "delete":
            toc.unlink()
        else:
            toc.write_bytes(toc.read_bytes()[:20])
    assert not index.usable()
    from webapp.search.startup import ensure_index

    ensure_index(demo)  # what a serving process does on its first request
    assert index.usable()
    assert found(client, "rayleigh") == [f"/q/{SKY}"]
    assert drift(demo).clean


def test_while_rebuilding_search_says_so_and_still_answers(demo, client):
    index = demo.extensions["search_index"]
    index.mark_rebuilding()
    try:
        response = client.get("/search?q=sky")
        assert response.status_code == 200
        assert "Search is being rebuilt" in text_of(response)
    finally:
        index.clear_rebuilding()
    assert "Search is being rebuilt" not in text_of(client.get("/search?q=sky"))


def test_a_dead_rebuilders_marker_is_ignored(demo):
    index = demo.extensions["search_index"]
    index.marker.write_text("999999999")
    assert not index.rebuilding()


def test_incremental_updates_do_not_merge_segments(demo):
    index = demo.extensions["search_index"]
    before = len(index.open()._segments())
    with demo.app_context():
        for slug in (SKY, "goldfish-memory"):
            question(slug).summary = f"Edited {slug} [1]."
            db.session.commit()
    after = index.open()._segments()
    assert len(after) == before + 2  # one small segment per commit, merged offline
    with index.searcher() as searcher:
        assert searcher.search(Term("slug", SKY)).scored_length() == 1


def test_an_index_with_an_older_schema_is_rebuilt(demo, client, runner):
    from whoosh.fields import ID, Schema
    from whoosh.filedb.filestore import FileStorage

    index = demo.extensions["search_index"]
    index.forget_searcher()
    FileStorage(str(index.path)).create_index(Schema(id=ID(unique=True, stored=True)))  # an old layout
    assert not index.usable()
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "rebuilt from the database" in result.output
    assert found(client, "rayleigh") == [f"/q/{SKY}"]


def test_a_request_never_rebuilds_a_missing_index_itself(demo, client, runner):
    index = demo.extensions["search_index"]
    index.forget_searcher()
    for toc in index.path.glob("_MAIN_*.toc"):
        toc.unlink()
    with demo.test_request_context("/"):
        question(SKY).summary = "About airships [1]."
        db.session.commit()  # a reader's request: the change waits in the outbox
        assert not index.usable()
    assert outbox(demo) == 1
    result = runner.invoke(args=["search", "sync"])
    assert "rebuilt from the database" in result.output
    assert outbox(demo) == 0
    assert found(client, "airships") == [f"/q/{SKY}"]
