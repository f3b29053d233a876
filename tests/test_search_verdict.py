"""The `verdict:` operator and the verdict on each result, for every engine (part of the
search contract): the demo rates seven claims (five false, one mostly false, one
unproven)."""
import html
import re

import pytest
from sqlalchemy import select, text

from tests.pages import HTMX, hit_of, part, result_links, search, text_of
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search.engine import engine_name
from webapp.search.query import HELP, parse

SUGAR = "/q/sugar-hyperactivity-children"
FIVE_SECONDS = "/q/five-second-rule"


def rated(app, verdict: str) -> set[str]:
    with app.app_context():
        return {f"/q/{slug}" for slug in db.session.scalars(select(Question.slug).where(Question.verdict == verdict))}


# --- reading the operator ---------------------------------------------------------------------

@pytest.mark.parametrize("q, verdict, words", [
    ("verdict:false", "false", []),
    ("verdict:Mostly-True sky", "mostly-true", ["sky"]),
    ("sugar VERDICT:unproven", "unproven", ["sugar"]),
    ('verdict:"Mostly false" sugar', "mostly-false", ["sugar"]),  # as the answer page writes it
])
def test_the_verdict_operator_reads_each_rating(q, verdict, words):
    query = parse(q)
    assert (query.verdict, query.words, query.notes) == (verdict, words, [])
    assert not query.empty


@pytest.mark.parametrize("q", ["verdict:maybe", "verdict:", 'verdict:"mostly', "verdict:mostly_false"])
def test_a_verdict_we_cannot_read_is_a_note_and_filters_nothing(q):
    query = parse(q)
    assert query.verdict is None and query.notes == [HELP["verdict"]]
    assert HELP["verdict"] == "verdict: takes true, mostly-true, mixed, mostly-false, false or unproven"


@pytest.mark.parametrize("q", ["verdict:", 'verdict:"', 'verdict:""', 'verdict:"mostly', "verdict:" + "x" * 300,
                               "verdict:false verdict:true", "verdict:<script>alert(1)</script>"])
@pytest.mark.parametrize("fragment", [False, True])
def test_any_verdict_gives_results_or_a_message(demo, client, q, fragment):
    response = client.get("/search", query_string={"q": q}, headers=HTMX if fragment else {})
    assert response.status_code == 200
    assert '<section id="results"' in text_of(response) and "<script>alert" not in text_of(response)


# --- searching with it ------------------------------------------------------------------------

def test_verdict_false_finds_only_the_answers_rated_false(demo, client):
    found = result_links(search(client, "verdict:false"))
    assert set(found) == rated(demo, "false") and len(found) == 5


def test_each_spelling_of_mostly_false_finds_the_one_answer_so_rated(demo, client):
    for q in ("verdict:mostly-false", "verdict:MOSTLY-FALSE", 'verdict:"mostly false"'):
        assert result_links(search(client, q)) == [FIVE_SECONDS] == sorted(rated(demo, "mostly-false")), q


def test_a_verdict_with_words_keeps_to_the_answers_with_both(demo, client):
    assert len(result_links(search(client, "sugar"))) > 1  # other answers mention sugar
    assert result_links(search(client, "sugar verdict:false")) == [SUGAR]
    assert result_links(search(client, "sugar verdict:true")) == []
    health = set(result_links(search(client, "category:health")))
    in_health = set(result_links(search(client, "verdict:false", category="health")))
    assert in_health == rated(demo, "false") & health and 0 < len(in_health) < 5


def test_a_verdict_search_counts_its_matches_and_facets(demo, client):
    page = search(client, "verdict:false")
    assert re.search(r'result-count"[^>]*>\s*5 results', page)
    facets = part(page, '<aside class="facets"', "</aside>")
    assert "Answered <small>(5)</small>" in facets


def test_a_verdict_we_cannot_read_explains_itself_and_searches_the_words(demo, client):
    page = html.unescape(search(client, "verdict:maybe sugar"))
    assert "We ignored part of your search: verdict: takes true, mostly-true, mixed, mostly-false, false or " \
           "unproven." in page
    assert SUGAR in result_links(page) and len(result_links(page)) > 1  # not filtered


def test_a_new_verdict_is_found_right_after_its_commit(demo, client):
    assert result_links(search(client, "verdict:true")) == []
    with demo.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == "why-is-the-sky-blue"))
        question.claim, question.verdict = "The sky is blue because of Rayleigh scattering", "true"
        db.session.commit()
    assert result_links(search(client, "verdict:true")) == ["/q/why-is-the-sky-blue"]
    assert "/q/why-is-the-sky-blue" in result_links(search(client, "sky"))


# --- the verdict on each result ---------------------------------------------------------------

def test_each_rated_result_says_its_verdict_in_words(demo, client):
    page = search(client, "sugar")
    assert "Verdict: <strong>False</strong>" in hit_of(page, SUGAR)
    unrated = [href for href in result_links(page) if href != SUGAR]
    assert unrated and all("Verdict:" not in hit_of(page, href) for href in unrated)
    assert "Verdict: <strong>Mostly false</strong>" in hit_of(search(client, "five second rule"), FIVE_SECONDS)


@pytest.mark.parametrize("target, url", [("main", "/search?q=sugar&live=1"), ("results", "/search?q=sugar")])
def test_the_htmx_results_say_the_verdict_too(demo, client, target, url):
    page = text_of(client.get(url, headers={**HTMX, "HX-Target": target}))
    assert "<html" not in page
    assert "Verdict: <strong>False</strong>" in hit_of(page, SUGAR)


def test_the_empty_search_page_explains_the_verdict_operator(demo, client):
    assert "<code>verdict:false</code>" in search(client, "")


# --- an index or a database from before the verdict -------------------------------------------

def test_an_index_from_before_the_verdict_is_rebuilt_and_searched(demo, client):
    if engine_name(demo) != "whoosh":
        pytest.skip("about the Whoosh engine's own index; this run searches with PostgreSQL")
    from whoosh.filedb.filestore import FileStorage

    from webapp.search.schema import make_schema

    index = demo.extensions["search"].index
    index.forget_searcher()
    old = make_schema()
    old.remove("verdict")
    FileStorage(str(index.path)).create_index(old)  # the layout the previous version wrote
    assert not index.usable()
    assert set(result_links(search(client, "verdict:false"))) == rated(demo, "false")
    assert index.usable()


def test_the_migration_fills_the_verdict_and_leaves_the_documents_current(demo, client):
    if engine_name(demo) != "postgres":
        pytest.skip("migration 0015 changes the PostgreSQL engine's documents only")
    from dataclasses import replace

    from flask_migrate import downgrade, stamp, upgrade

    from webapp.search.documents import all_documents, texts
    from webapp.commands import migrations
    from webapp.search.postgres.engine import row

    migrations(demo)
    with demo.app_context():
        try:
            stamp(revision="0015_search_verdict")
            downgrade(revision="0014_asking")
            # The documents as the previous version wrote them: no verdict in their version.
            with db.engine.begin() as connection:
                for t in all_documents(db.session, build=texts):
                    connection.execute(text("UPDATE search_document SET version = :v WHERE question_id = :id"),
                                       {"v": row(replace(t, verdict=None))["version"], "id": t.id})
            db.session.remove()
            upgrade(revision="0015_search_verdict")
            filled = dict(db.session.execute(text(
                "SELECT slug, verdict FROM search_document WHERE verdict IS NOT NULL")).all())
            assert len(filled) == 7 and filled["sugar-hyperactivity-children"] == "false"
            db.session.remove()
            assert demo.extensions["search"].check().clean
        finally:
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    assert set(result_links(search(client, "verdict:false"))) == rated(demo, "false")
