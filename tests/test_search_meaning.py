"""Search by meaning, for every engine (part of the search contract): paraphrases find
their answer where the words alone miss it, operators hold for what meaning finds, a
result found by meaning alone says so, vectors follow every edit on every app server,
and the features that guess (dive deeper, duplicates) use them."""
import re
import threading
import time

import numpy as np
import pytest
from sqlalchemy import delete, select

from tests.apps import query_plan
from tests.pages import HTMX, hit_of, result_links, search, text_of
from tests.paraphrase_cases import PARAPHRASES
from tests.relevance_cases import RELEVANCE
from tests.test_desk_editing import signed_in_editor
from webapp import create_app
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search import service
from webapp.search.meaning.models import QuestionMeaning
from webapp.search.meaning import nearest as nearest_module
from webapp.search.meaning.model import DIMENSIONS
from webapp.search.meaning.nearest import CODE_BYTES, Nearest
from webapp.search.meaning.nearest import held as held_part
from webapp.search.meaning.store import from_bytes, to_bytes
from webapp.search.query import parse

KNUCKLES = "/q/cracking-knuckles-arthritis"
PHONE = "/q/phone-charging-overnight"
INCOGNITO = "/q/incognito-mode-anonymous"
# None of its words is in the incognito answer; its meaning is.
HIDDEN_TAB = "can my office wifi spot pages i view in a hidden tab"


def ranks(app, cases, meaning: bool) -> list[int | None]:
    app.config["SEARCH_MEANING"] = meaning
    found = []
    with app.app_context():
        for q, expected in cases:
            paths = [f"/q/{hit.slug}" for hit in service.search(db.session, parse(q)).hits[:10]]
            found.append(paths.index(expected) + 1 if expected in paths else None)
    return found


def top3(found) -> int:
    return sum(1 for r in found if r is not None and r <= 3)


def mrr(found) -> float:
    return sum(1 / r for r in found if r is not None) / len(found)


# --- relevance: the paraphrase suite (tests/paraphrase_cases.py) ---------------------------

def test_paraphrases_find_their_answer_more_often_with_meaning(demo):
    words, hybrid = ranks(demo, PARAPHRASES, False), ranks(demo, PARAPHRASES, True)
    assert top3(hybrid) > top3(words) and mrr(hybrid) > mrr(words)
    assert top3(hybrid) >= 0.9 * len(PARAPHRASES)  # bench/relevance.py prints the figures (docs/search.md)


def test_meaning_loses_no_case_the_words_get_right(demo):
    words, hybrid = ranks(demo, RELEVANCE, False), ranks(demo, RELEVANCE, True)
    lost = [q for (q, _), w, h in zip(RELEVANCE, words, hybrid, strict=True) if w and w <= 3 and not (h and h <= 3)]
    assert not lost


@pytest.mark.parametrize("q, expected, beaten", [
    ("popping your fingers bad for joints later in life", KNUCKLES, "/q/msg-bad-for-you"),
    ("leaving my mobile plugged in all night kills it", PHONE, "/q/alcohol-cooks-off"),
])
def test_the_misses_that_opened_the_issue_are_fixed(demo, client, q, expected, beaten):
    demo.config["SEARCH_MEANING"] = False
    before = result_links(search(client, q))
    demo.config["SEARCH_MEANING"] = True
    after = result_links(search(client, q))
    assert beaten in before and (expected not in before or before.index(beaten) < before.index(expected))
    assert after.index(expected) < (after.index(beaten) if beaten in after else len(after))
    assert after.index(expected) < 3


# --- what the reader sees -----------------------------------------------------------------------

@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx"])
def test_a_result_found_by_meaning_alone_says_so_and_marks_no_words(demo, client, fragment):
    headers = {**HTMX, "HX-Target": "results"} if fragment else {}
    page = text_of(client.get("/search", query_string={"q": HIDDEN_TAB}, headers=headers))
    assert ("<html" in page) != fragment
    item = hit_of(page, INCOGNITO)
    assert "related in meaning" in item and "<mark>" not in item
    matched = [hit_of(page, href) for href in result_links(page) if href != INCOGNITO]
    assert matched and all("related in meaning" not in li for li in matched)


def test_with_meaning_off_only_the_words_find(demo, client):
    demo.config["SEARCH_MEANING"] = False
    page = search(client, HIDDEN_TAB)
    assert INCOGNITO not in result_links(page) and "related in meaning" not in page


def test_a_query_about_nothing_here_still_finds_nothing(demo, client):
    page = search(client, "zxqv plorb")
    assert result_links(page) == [] and "related in meaning" not in page


def count_of(page: str) -> int:
    return int(re.search(r'result-count"[^>]*>\s*([\d,]+) result', page).group(1).replace(",", ""))


def test_the_count_includes_what_meaning_alone_found(demo, client):
    demo.config["SEARCH_MEANING"] = False
    words = count_of(search(client, HIDDEN_TAB))
    demo.config["SEARCH_MEANING"] = True
    first = search(client, HIDDEN_TAB)
    pages = [first] + [search(client, HIDDEN_TAB, page=n) for n in range(2, -(-count_of(first) // 10) + 1)]
    found = [href for page in pages for href in result_links(page)]
    by_meaning = sum(page.count("related in meaning") for page in pages)
    assert by_meaning >= 1 and count_of(first) == len(found) == len(set(found)) == words + by_meaning


@pytest.mark.parametrize("q", [f"category:history {HIDDEN_TAB}", f"is:unanswered {HIDDEN_TAB}",
                               f"verdict:false {HIDDEN_TAB}", f"cites:nasa.gov {HIDDEN_TAB}"])
def test_operators_hold_for_what_meaning_finds(demo, client, q):
    """The incognito answer is in Technology, answered, unrated, and cites no NASA page."""
    assert INCOGNITO not in result_links(search(client, q))


def test_the_category_filter_holds_for_what_meaning_finds(demo, client):
    assert INCOGNITO in result_links(search(client, HIDDEN_TAB, category="technology"))
    assert INCOGNITO not in result_links(search(client, HIDDEN_TAB, category="history"))


def test_a_quoted_phrase_searches_the_words_alone(demo, client):
    assert INCOGNITO not in result_links(search(client, f'"{HIDDEN_TAB}"'))


# --- vectors follow the database ---------------------------------------------------------------

def rename(app, slug: str, text: str) -> None:
    with app.app_context():
        db.session.scalar(select(Question).where(Question.slug == slug)).text = text
        db.session.commit()


HEDGEHOGS = "Are hedgehogs immune to snake venom?"
SHARED = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR", "SEARCH_ENGINE", "SITE_URL",
          "SEARCH_REBUILD_IN_BACKGROUND", "RATELIMIT_STORAGE_URI", "SEARCH_MEANING_REFRESH")


def nearest_to(app, text: str) -> str:
    with app.app_context():
        question_id = service.lookup.near_text(db.session, text, 1)[0][0]
        return db.session.get(Question, question_id).slug


def test_an_edit_is_found_by_its_new_meaning_on_another_app_server(demo, client, tmp_path):
    other = create_app({key: demo.config[key] for key in SHARED})  # a second app server on the same database
    assert nearest_to(other, HEDGEHOGS) != "camels-store-water"
    rename(demo, "camels-store-water", HEDGEHOGS)
    assert nearest_to(other, HEDGEHOGS) == "camels-store-water"


def test_a_deleted_question_is_no_longer_found_by_meaning(demo, client):
    assert INCOGNITO in result_links(search(client, HIDDEN_TAB))
    with demo.app_context():
        db.session.delete(db.session.scalar(select(Question).where(Question.slug == "incognito-mode-anonymous")))
        db.session.commit()
        row = db.session.get(QuestionMeaning, db.session.scalar(select(QuestionMeaning.question_id).where(
            QuestionMeaning.vector.is_(None))))
        assert row is not None  # the tombstone other processes read
    assert INCOGNITO not in result_links(search(client, HIDDEN_TAB))


def test_check_reports_missing_vectors_and_sync_computes_them(demo, runner):
    with demo.app_context():
        db.session.execute(delete(QuestionMeaning))
        db.session.commit()
    checked = runner.invoke(args=["search", "check"])
    assert checked.exit_code == 1 and "vectors missing:" in checked.output
    synced = runner.invoke(args=["search", "sync"])
    assert synced.exit_code == 0 and "computed" in synced.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_a_rebuild_recomputes_every_vector(demo, runner):
    with demo.app_context():
        db.session.execute(delete(QuestionMeaning))
        db.session.commit()
        total = db.session.scalar(select(db.func.count()).select_from(Question))
    assert runner.invoke(args=["search", "rebuild", "--procs", "1"]).exit_code == 0
    with demo.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(QuestionMeaning)
                                 .where(QuestionMeaning.vector.is_not(None))) == total


def test_vectors_of_the_earlier_256_dimension_model_search_beside_new_ones_until_sync(demo, runner, client):
    """Issue 18 kept 128 of the model's 256 dimensions. After the upgrade the table holds
    both kinds until `flask search sync` writes the earlier ones again: search by meaning
    reads both meanwhile, and check and sync know which are out of date."""
    with demo.app_context():
        rows = db.session.scalars(select(QuestionMeaning).where(QuestionMeaning.vector.is_not(None))
                                  .order_by(QuestionMeaning.question_id)).all()
        incognito = db.session.scalar(select(Question.id).where(Question.slug == INCOGNITO.removeprefix("/q/")))
        extra = np.random.default_rng(5).standard_normal(DIMENSIONS).astype(np.float32)
        # Every other one as the earlier model wrote it (its first 128 the same direction).
        widened = [row for n, row in enumerate(rows) if n % 2 == 0 or row.question_id == incognito]
        for row in widened:
            wide = np.concatenate([from_bytes(row.vector) * 0.8, extra / np.linalg.norm(extra) * 0.6])
            row.vector, row.model, row.version = to_bytes(wide), "wordllama-l2_supercat-256", row.version[::-1]
        db.session.commit()
        earlier = len(widened)
        assert len(db.session.get(QuestionMeaning, incognito).vector) == 4 * DIMENSIONS < earlier * 4 * DIMENSIONS

    # None of its words: found by meaning, as a full page and as the results' fragment.
    for headers in ({}, {**HTMX, "HX-Target": "results"}):
        page = client.get("/search", query_string={"q": HIDDEN_TAB}, headers=headers)
        assert page.status_code == 200 and "related in meaning" in hit_of(text_of(page), INCOGNITO)
    checked = runner.invoke(args=["search", "check"])
    assert checked.exit_code == 1 and f"vectors stale: {earlier} " in checked.output
    synced = runner.invoke(args=["search", "sync"])
    assert synced.exit_code == 0 and f"computed {earlier} vector(s)" in synced.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    with demo.app_context():
        assert {len(v) for v in db.session.scalars(select(QuestionMeaning.vector)
                                                     .where(QuestionMeaning.vector.is_not(None)))} == {2 * DIMENSIONS}


# --- the features that guess -------------------------------------------------------------------

def test_an_editor_adding_a_question_that_exists_is_told(demo, client):
    signed_in_editor(demo, client)
    page = text_of(client.get("/desk/new", query_string={"text": "Can cracking knuckles give you arthritis?"}))
    assert "This looks like an existing question" in page and f'href="{KNUCKLES}"' in page
    fresh = text_of(client.get("/desk/new", query_string={"text": "Is coffee bad for your heart?"}))
    assert "This looks like an existing question" not in fresh


def test_dive_deeper_suggestions_include_the_nearest_by_meaning(demo):
    with demo.app_context():
        bats = db.session.scalar(select(Question).where(Question.slug == "bats-are-blind"))
        near = [q for q, _ in service.lookup.near_question(db.session, bats.id, 20)]
        answered = {q.id for q in db.session.scalars(select(Question).where(Question.status == "answered"))}
        nearest_answered = next(q for q in near if q in answered)
        assert nearest_answered in service.similar_answered(db.session, bats.id, set(), 5)


# --- the codes each process holds ---------------------------------------------------------------

def vectors(count: int, seed: int = 3) -> np.ndarray:
    """`count` unit vectors of the model's size, every one a different code."""
    found = np.random.default_rng(seed).standard_normal((count, DIMENSIONS)).astype(np.float32)
    return found / np.linalg.norm(found, axis=1, keepdims=True)


def test_the_model_held_narrow_gives_the_librarys_own_vectors():
    """Held as float16 and cut to its first 128 dimensions to save a worker 16 + 8 MB
    (issue 18), it must embed exactly as the library's own float32 model of all 256
    does, in those dimensions: the stored vectors and the floors depend on it."""
    from pathlib import Path

    import wordllama

    from webapp.search.meaning import model

    library = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True,
                                       dim=model.WEIGHTS_DIMENSIONS)
    texts = ["Is the capital of France Paris?", "How do vaccines work, and are they safe for children? " * 8, ""]
    ours = model._load().embed(texts, norm=False)
    assert library.embedding.dtype == np.float32 and model._load().embedding.dtype == np.float16
    assert ours.shape == (3, DIMENSIONS) == (3, 128)
    assert np.array_equal(np.asarray(library.embed(texts, norm=False))[:, :DIMENSIONS], ours)


def test_codes_grow_replace_and_forget():
    held, made = Nearest(), vectors(1501)
    for question_id in range(1, 1500):  # past one growth step
        held._put(question_id, made[question_id])
    assert held.candidates(made[7], 1) == [7]
    held._put(7, None)  # a tombstone: the last row moves into its place
    assert 7 not in held.candidates(made[7], 5) and held.size == 1498
    assert held.candidates(made[1499], 1) == [1499]
    held._put(7, made[1500])  # written again, as something else
    assert held.candidates(made[1500], 1) == [7] and held.size == 1499
    held._put(250_000, made[0])  # an id far past the others
    assert held.candidates(made[0], 1) == [250_000]
    # What a process holds: a code, an id and a stamp a row (48 bytes, where the float
    # matrix took 512), and 4 bytes an id.
    assert (held.nbytes - held.row_of.nbytes) == len(held.codes) * (CODE_BYTES + 8)  # a 4-byte id and a 4-byte stamp a row
    assert held.row_of.nbytes < 4 * 260_000


def write_vectors(found: np.ndarray) -> None:
    """Vectors for question ids 1..n, as the engines write them (no question needed)."""
    db.session.execute(delete(QuestionMeaning))
    db.session.add_all(QuestionMeaning(question_id=n, vector=to_bytes(v), model="test", version=str(n))
                       for n, v in enumerate(found, 1))
    db.session.commit()


def exact(found: np.ndarray, query: np.ndarray, ids: list[int], limit: int) -> list[int]:
    """The `limit` nearest of `ids` by a full scan of their vectors as stored (float16)."""
    stored = held_part(np.stack([from_bytes(to_bytes(found[n - 1])) for n in ids]))
    scores = dict(zip(ids, (stored @ held_part(query)).tolist(), strict=True))
    return sorted(ids, key=lambda n: (-scores[n], n))[:limit]


def test_the_nearest_are_the_exact_cosines_among_the_nearest_codes(app, monkeypatch):
    with app.app_context():
        found = vectors(400)
        write_vectors(found)
        held = Nearest()
        held.refresh(db.session, 0.0)
        query = vectors(1, seed=9)[0]
        # The corpus within CANDIDATES: every question scored, as exactly as a full scan.
        near = held.near(db.session, query, 10)
        assert [q for q, _ in near] == exact(found, query, list(range(1, 401)), 10)
        assert [round(s, 5) for _, s in near] == [
        round(float(held_part(from_bytes(to_bytes(found[q - 1]))) @ held_part(query)), 5) for q, _ in near]
        # Beyond it: the exact order of the nearest codes' questions, and nothing else.
        monkeypatch.setattr(nearest_module, "CANDIDATES", 50)
        pool = held.candidates(query, 50)
        assert len(pool) == 50
        assert [q for q, _ in held.near(db.session, query, 10)] == exact(found, query, pool, 10)
        left_out = {q for q, _ in near[:3]}
        assert not left_out & {q for q, _ in held.near(db.session, query, 10, left_out=left_out)}


def test_a_process_reads_changes_at_most_every_refresh_seconds(demo, client, monkeypatch):
    # The codes it holds choose the candidates (scored with the database's vectors): a
    # few of them, so that a code it has not read again leaves the question out.
    monkeypatch.setattr(nearest_module, "CANDIDATES", 5)
    demo.config["SEARCH_MEANING_REFRESH"] = 3600.0
    assert nearest_to(demo, HEDGEHOGS) != "incognito-mode-anonymous"  # loaded now
    rename(demo, "incognito-mode-anonymous", HEDGEHOGS)
    assert nearest_to(demo, HEDGEHOGS) != "incognito-mode-anonymous"  # still the copy it holds
    demo.config["SEARCH_MEANING_REFRESH"] = 0.0
    assert nearest_to(demo, HEDGEHOGS) == "incognito-mode-anonymous"


def test_answers_that_may_help_include_the_nearest_answer_by_meaning(demo, client):
    """An unanswered page's "Answers that may help meanwhile" looks for the meaning of
    the whole question, not only its five longest words."""
    slug = "what-actually-drains-a-phone-battery-the-most"
    with demo.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        assert not question.answered
        near = [q for q, _ in service.lookup.near_text(db.session, question.text, 20)]
        answered = {q.slug: q.id for q in db.session.scalars(select(Question).where(Question.status == "answered"))}
        nearest = next(s for s, i in answered.items() if i == next(q for q in near if q in answered.values()))
    page = text_of(client.get(f"/q/{slug}"))
    helping = page[page.index("Answers that may help meanwhile"):]
    assert f'href="/q/{nearest}"' in helping.split("</section>")[0]


def test_a_serving_process_reads_the_vectors_in_the_background_and_searches_by_words_meanwhile(
        demo, client, monkeypatch):
    demo.config["SEARCH_REBUILD_IN_BACKGROUND"] = True
    reading, release = threading.Event(), threading.Event()
    load_all = Nearest._load_all

    def slow_load(self, session):
        reading.set()
        release.wait(10)
        load_all(self, session)

    monkeypatch.setattr(Nearest, "_load_all", slow_load)
    page = search(client, HIDDEN_TAB)  # the first look starts, in a thread
    assert reading.wait(10)
    assert INCOGNITO not in result_links(page) and result_links(page)  # by words, not waiting
    release.set()
    held, deadline = demo.extensions["meaning"], time.monotonic() + 10
    while held.last_look is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "related in meaning" in hit_of(search(client, HIDDEN_TAB), INCOGNITO)


def test_vectors_of_questions_deleted_beside_the_app_are_swept_and_missing_ones_found(demo):
    """`flask search rebuild` and `sync` put right what was written beside the app: a
    question deleted with SQL leaves a tombstone, one added without a vector is missing."""
    from sqlalchemy import text

    from webapp.search.meaning import store

    with demo.app_context():
        gone = db.session.scalar(select(Question.id).where(Question.slug == "why-is-the-sky-blue"))
        db.session.execute(text("DELETE FROM question_meaning WHERE question_id = (SELECT min(id) FROM question)"))
        db.session.execute(text("DELETE FROM related_link WHERE from_id = :id OR to_id = :id"), {"id": gone})
        if db.engine.dialect.name == "sqlite":  # no ON DELETE CASCADE without the pragma: as PostgreSQL would
            for table in ("section", "source", "question_rank", "search_outbox"):
                db.session.execute(text(f"DELETE FROM {table} WHERE {'question_id'} = :id"), {"id": gone})
        db.session.execute(text("DELETE FROM question WHERE id = :id"), {"id": gone})
        db.session.commit()
        first = db.session.scalar(select(Question.id).order_by(Question.id))
        assert store.missing(db.engine) == [first]
        with db.engine.begin() as connection:
            store.sweep(connection)
        swept = db.session.get(QuestionMeaning, gone)
        assert swept is not None and swept.vector is None  # a tombstone the other processes read


def test_the_sweep_is_an_anti_join_not_a_scan_per_vector(app):
    """NOT IN over a million question ids ran as a scan of them for each vector: a
    rebuild at 1,000,000 questions never ended."""
    from webapp.search.meaning import store

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's plans")
        sql = str(store.sweep_statement().compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = query_plan(sql)
    assert "Anti Join" in plan and "SubPlan" not in plan, plan
