"""The index never lies: every committed change reaches it, nothing rolled back does,
crashes and lock contention lose nothing, drift is found and repaired.

The first tests hold for every engine (the contract); those that take `whoosh` are
about the Whoosh engine's own folder, lock and outbox and run where it is the engine."""
import os
import shutil
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select, text
from whoosh.query import Term

from tests.apps import ROOT
from tests.pages import result_links, text_of
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search.engine import engine_name
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
        return app.extensions["search"].check()


def recorded_in_transaction(app) -> bool:
    """Whether the open transaction holds the engine's record of a change to the sky
    answer: an outbox row (Whoosh) or the rewritten document itself (PostgreSQL)."""
    if engine_name(app) == "whoosh":
        return db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 1
    summary = db.session.scalar(text("SELECT summary FROM search_document WHERE slug = :s"), {"s": SKY})
    return "dirigibles" in summary


@pytest.fixture
def whoosh(demo):
    """The Whoosh engine's index, where Whoosh is the engine."""
    if engine_name(demo) != "whoosh":
        pytest.skip("about the Whoosh engine's own index; this run searches with PostgreSQL")
    return demo.extensions["search"].index


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
        db.session.flush()  # the engine records the change in the transaction...
        assert recorded_in_transaction(demo)
        db.session.rollback()  # ...and the record goes with it
    assert outbox(demo) == 0
    assert found(client, "dirigibles") == []
    assert drift(demo).clean


def test_a_busy_index_lock_leaves_the_change_in_the_outbox_for_the_next_drain(demo, whoosh, client, runner):
    demo.config["SEARCH_LOCK_TIMEOUT"] = 0.05
    whoosh.lock_timeout = 0.05
    holder = whoosh.open().writer()  # another process is writing
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


def test_a_process_killed_right_after_its_commit_loses_nothing(demo, client, runner):
    process = run_worker(demo, "edit-and-die", SKY, "ornithopters", check=False)
    assert process.returncode == -9, process.stderr
    if engine_name(demo) == "whoosh":  # committed, not yet drained: the outbox holds it
        assert outbox(demo) == 1
        assert drift(demo).stale == [SKY]
    assert runner.invoke(args=["search", "sync"]).exit_code == 0
    assert found(client, "ornithopters") == [f"/q/{SKY}"]
    assert drift(demo).clean


def test_two_processes_writing_at_once_leave_the_index_equal_to_the_database(demo, client, runner):
    """Real processes and real lock contention, on every engine: no LockError reaches a
    writer. Whether they interleave badly is luck here; the race itself is forced in
    test_a_drain_reads_the_documents_under_the_lock_so_the_last_commit_wins."""
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


class LockTakenLate:
    """A planted bug for the race test below: a Whoosh writer that takes the index lock
    only when it first writes, so a drain reads its outbox rows and documents outside
    the lock (as the code did before the lock was taken first)."""

    def __init__(self, take_lock):
        self._take_lock, self._writer = take_lock, None

    def __getattr__(self, name):
        if self._writer is None:
            self._writer = self._take_lock()
        return getattr(self._writer, name)


def race_a_drain_against_a_newer_commit(demo, whoosh, monkeypatch) -> None:
    """Forces the interleaving two processes hit now and then: drain A has read the
    documents of an edit; before A writes them, another writer commits a newer summary
    and drains (B). Under the lock, B finds the index busy and leaves its row for the
    next batch; outside it, B writes the newer summary and A then overwrites it with
    the older one, and the outbox is empty: the index lies until a rebuild."""
    from webapp.search import sync

    whoosh.lock_timeout = 0.05  # B gives up quickly when A holds the lock
    demo.config["SEARCH_DRAIN_ON_COMMIT"] = False
    with demo.app_context():
        question(SKY).summary = "Older words about zeppelins [1]."
        db.session.commit()  # waits in the outbox for drain A
    demo.config["SEARCH_DRAIN_ON_COMMIT"] = True
    read_documents = sync.documents_for
    raced = []

    def read_then_let_another_writer_in(session, ids, **choices):
        docs = read_documents(session, ids, **choices)
        if not raced:  # drain A only; B's own read (if it gets the lock) is left alone
            raced.append(True)
            question(SKY).summary = "Newer words about blimps [1]."
            db.session.commit()  # B: commits, then drains after its commit
        return docs

    monkeypatch.setattr(sync, "documents_for", read_then_let_another_writer_in)
    with demo.app_context():
        sync.drain(whoosh, db.engine)  # A
    monkeypatch.setattr(sync, "documents_for", read_documents)
    assert raced


def test_a_drain_reads_the_documents_under_the_lock_so_the_last_commit_wins(demo, whoosh, client, monkeypatch):
    race_a_drain_against_a_newer_commit(demo, whoosh, monkeypatch)
    assert outbox(demo) == 0  # B's row waited for the lock, and A's next batch applied it
    assert drift(demo).clean
    assert found(client, "blimps") == [f"/q/{SKY}"] and found(client, "zeppelins") == []


def test_the_race_test_catches_documents_read_outside_the_lock(demo, whoosh, client, runner, monkeypatch):
    """The test above, against the planted bug: it must see the stale index every time."""
    from whoosh.index import FileIndex

    take_lock = FileIndex.writer
    monkeypatch.setattr(FileIndex, "writer", lambda ix, **kw: LockTakenLate(lambda: take_lock(ix, **kw)))
    race_a_drain_against_a_newer_commit(demo, whoosh, monkeypatch)
    runner.invoke(args=["search", "sync"])
    assert drift(demo).stale == [SKY]  # the older words won, and nothing is left to drain
    assert found(client, "zeppelins") == [f"/q/{SKY}"] and found(client, "blimps") == []


def damage_whoosh(demo, index) -> None:
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


def damage_postgres(demo) -> None:
    with demo.app_context():
        db.session.execute(text("DELETE FROM search_document WHERE slug = 'goldfish-memory'"))  # a document lost
        db.session.execute(text(  # one that should not be
            "INSERT INTO search_document SELECT 99999, 'ghost', question, summary, category, category_name, "
            "status, checked_on, cites, words, version, tsv FROM search_document WHERE slug = :s"), {"s": SKY})
        db.session.execute(text("UPDATE search_document SET version = 'old' WHERE slug = :s"), {"s": SKY})
        db.session.commit()


def test_check_finds_drift_and_rebuild_repairs_it(demo, runner):
    if engine_name(demo) == "whoosh":
        damage_whoosh(demo, demo.extensions["search"].index)
    else:
        damage_postgres(demo)

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
def test_a_missing_or_unreadable_index_is_rebuilt_at_start_up(demo, whoosh, client, damage):
    index = whoosh
    index.forget_searcher()
    tocs = list(index.path.glob("_MAIN_*.toc"))
    for toc in tocs:
        if damage == "delete":
            toc.unlink()
        else:
            toc.write_bytes(toc.read_bytes()[:20])
    assert not index.usable()
    from webapp.search.startup import ensure_index

    ensure_index(demo, index)  # what a serving process does on its first request
    assert index.usable()
    assert found(client, "rayleigh") == [f"/q/{SKY}"]
    assert drift(demo).clean


def test_while_rebuilding_search_says_so_and_still_answers(demo, whoosh, client):
    index = whoosh
    index.mark_rebuilding()
    try:
        response = client.get("/search?q=sky")
        assert response.status_code == 200
        assert "Search is being rebuilt" in text_of(response)
    finally:
        index.clear_rebuilding()
    assert "Search is being rebuilt" not in text_of(client.get("/search?q=sky"))


def test_a_dead_rebuilders_marker_is_ignored(demo, whoosh):
    index = whoosh
    index.marker.write_text("999999999")
    assert not index.rebuilding()


def test_incremental_updates_do_not_merge_segments(demo, whoosh):
    index = whoosh
    before = len(index.open()._segments())
    with demo.app_context():
        for slug in (SKY, "goldfish-memory"):
            question(slug).summary = f"Edited {slug} [1]."
            db.session.commit()
    after = index.open()._segments()
    assert len(after) == before + 2  # one small segment per commit, merged offline
    with index.searcher() as searcher:
        assert searcher.search(Term("slug", SKY)).scored_length() == 1


def test_an_index_with_an_older_schema_is_rebuilt(demo, whoosh, client, runner):
    from whoosh.fields import ID, Schema
    from whoosh.filedb.filestore import FileStorage

    index = whoosh
    index.forget_searcher()
    FileStorage(str(index.path)).create_index(Schema(id=ID(unique=True, stored=True)))  # an old layout
    assert not index.usable()
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "rebuilt from the database" in result.output
    assert found(client, "rayleigh") == [f"/q/{SKY}"]


def test_a_request_never_rebuilds_a_missing_index_itself(demo, whoosh, client, runner):
    index = whoosh
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


def test_postgres_rebuild_takes_the_ranking_index_down_and_puts_it_back(demo, client, runner):
    if engine_name(demo) != "postgres":
        pytest.skip("about the PostgreSQL engine's ranking index")
    with demo.app_context():  # as in the middle of a rebuild
        db.session.execute(text("DROP INDEX search_document_tsv"))
        db.session.commit()
    page = text_of(client.get("/search?q=rayleigh"))
    assert "Search is being rebuilt" in page and result_links(page) == [f"/q/{SKY}"]  # slower, still right
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "indexed 50 questions" in result.output
    page = text_of(client.get("/search?q=rayleigh"))
    assert "Search is being rebuilt" not in page and result_links(page) == [f"/q/{SKY}"]
    assert drift(demo).clean


# --- an index deleted while serving (issue 10, finding 9) --------------------------------------

def gap_count(app) -> int:
    from webapp.search.models import SearchGap

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SearchGap))


def test_an_index_deleted_while_serving_is_rebuilt_on_the_next_search(demo, whoosh, client):
    assert found(client, "rayleigh") == [f"/q/{SKY}"]  # serving: this thread holds a searcher
    shutil.rmtree(whoosh.path)  # `rm -rf search_index`
    page = text_of(client.get("/search?q=rayleigh"))  # rebuilt here (in the background when serving)
    assert result_links(page) == [f"/q/{SKY}"] and "Search is being rebuilt" not in page
    assert whoosh.usable() and drift(demo).clean


def test_a_rebuild_runs_in_one_process_and_searches_that_could_not_run_are_no_gaps(demo, whoosh, client):
    shutil.rmtree(whoosh.path)
    other_worker = whoosh.try_write_lock()  # another gunicorn worker is rebuilding it
    assert other_worker is not None
    try:
        for q in ("rayleigh", "quantum knitting"):
            response = client.get("/search", query_string={"q": q})
            assert response.status_code == 200 and "Search is being rebuilt" in text_of(response)
        assert not whoosh.usable()  # this process left the rebuild to the lock's holder
        assert gap_count(demo) == 0  # nothing was searched, so nothing was missing
    finally:
        other_worker.release()
    assert found(client, "rayleigh") == [f"/q/{SKY}"]  # the holder went: the next search rebuilds


def test_a_serving_process_rebuilds_a_deleted_index_in_the_background(demo, whoosh, client):
    demo.config["SEARCH_REBUILD_IN_BACKGROUND"] = True
    shutil.rmtree(whoosh.path)
    page = text_of(client.get("/search?q=rayleigh"))
    assert "Search is being rebuilt" in page and gap_count(demo) == 0
    for thread in threading.enumerate():
        if thread.name == "search-rebuild":
            thread.join()
    assert found(client, "rayleigh") == [f"/q/{SKY}"]


def test_search_check_on_a_missing_index_says_so(demo, whoosh, runner):
    shutil.rmtree(whoosh.path)
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not a traceback
    assert "no search index in" in result.output and "flask search rebuild" in result.output


def test_at_start_up_a_missing_index_is_rebuilt_in_the_background_while_search_says_so(demo, whoosh, client, monkeypatch):
    """A serving process (SEARCH_REBUILD_IN_BACKGROUND) whose index is gone: its first
    request of any kind starts the rebuild and is not kept waiting; searches meanwhile
    say so; once the rebuild is done they find answers."""
    from webapp.search import startup

    demo.config["SEARCH_REBUILD_IN_BACKGROUND"] = True
    shutil.rmtree(whoosh.path)
    whoosh.forget_searcher()
    may_finish = threading.Event()
    rebuild = startup.sync.rebuild

    def slow_rebuild(*args, **kwargs):  # held until the test has searched meanwhile
        assert may_finish.wait(30)
        return rebuild(*args, **kwargs)

    monkeypatch.setattr(startup.sync, "rebuild", slow_rebuild)
    assert client.get("/about").status_code == 200  # the first request: not a search
    rebuilders = [t for t in threading.enumerate() if t.name == "search-rebuild"]
    assert len(rebuilders) == 1 and rebuilders[0].is_alive()
    try:
        page = text_of(client.get("/search?q=rayleigh"))
        assert "Search is being rebuilt" in page and result_links(page) == []
    finally:
        may_finish.set()
        rebuilders[0].join(30)
    page = text_of(client.get("/search?q=rayleigh"))
    assert result_links(page) == [f"/q/{SKY}"] and "Search is being rebuilt" not in page
    assert drift(demo).clean


def test_a_postgresql_rebuild_first_gives_the_planner_statistics_of_what_it_reads(app, runner):
    # A rebuild often follows a bulk load (a restore, a synthetic corpus) that left none:
    # then the planner read each batch's sections with a scan of them all (3.6x slower
    # at 1,000,000 questions).
    if engine_name(app) != "postgres":
        pytest.skip("PostgreSQL's planner statistics")
    from tests.apps import DEMO
    from webapp.content.importer import import_folder

    with app.app_context():
        import_folder(db.session, DEMO)
        # As a bulk load leaves them (the tables are reused between tests, their statistics too).
        db.session.execute(text("DELETE FROM pg_statistic WHERE starelid = CAST('section' AS regclass)"))
        described = "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'section'"
        assert db.session.scalar(text(described)) == 0
        db.session.commit()
    assert runner.invoke(args=["search", "rebuild"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(text(described)) > 0
