"""What the whole-graph figures say, on a small graph whose answers are known: the
orphans an editor is shown, the order of the hubs (PageRank, stored by `flask graph
rank`), the shortest chain (searched both ways over the link table), and "Linked from"
on an answered page; and on random graphs, the same PageRank and chain lengths as
networkx's."""
import random
import re

import networkx as nx
import numpy as np
import pytest

from tests.answer_files import answer
from tests.pages import HTMX, links, part, text_of
from tests.readers import sign_in
from webapp.answers.models import Question
from webapp.content.importer import import_folder
from webapp.extensions import db
from webapp.graph import chains, ranking

# slug -> the slugs its file lists as related (curated links, one way)
GRAPH = {
    "hub": [],
    "second": [],
    "a": ["hub", "second"],
    "b": ["hub", "second"],
    "c": ["hub"],
    "d": ["hub"],
    "e": ["hub"],
    "f": ["hub"],
    "lone": [],
    "start": ["m1", "k"],  # the long way round to "end", and a short cut through k
    "m1": ["m2"],
    "m2": ["m3"],
    "m3": ["end"],
    "k": ["end"],
    "end": [],
}
# Questions read alphabetically in the opposite order of their rank, so ordering by
# text (or by anything but PageRank) puts the hub last.
TEXT = {slug: f"{'Zz' if slug == 'hub' else 'Yy' if slug == 'second' else 'Aa'} question {slug}?" for slug in GRAPH}


@pytest.fixture
def graph(app, content_dir):
    for slug, related in GRAPH.items():
        (content_dir / f"{slug}.md").write_text(answer(slug, TEXT[slug], related=[f"slug: {r}" for r in related]))
    with app.app_context():
        report = import_folder(db.session, content_dir)
        assert not report.rejected, report.rejected
        ranking.compute(db.session)  # as `flask content import` does after importing
        db.session.commit()
    return app


def slugs(html: str) -> list[str]:
    return [re.search(r"/(?:q|explore)/([a-z0-9-]+)", href).group(1) for href, _ in links(html)]


def test_orphans_lists_the_answers_no_other_question_links_to(graph, client):
    sign_in(graph, client)
    with graph.app_context():
        from webapp.accounts.models import User

        db.session.scalar(db.select(User)).is_editor = True
        db.session.commit()
    page = text_of(client.get("/explore/orphans"))
    listed = slugs(part(page, "<h1>Orphaned answers</h1>", "</ul>"))
    # Linked to by nothing: listed, whether or not they link out ("start" and "a" do).
    assert sorted(listed) == ["a", "b", "c", "d", "e", "f", "lone", "start"]


def test_hubs_come_in_pagerank_order(graph, client):
    page = text_of(client.get("/explore"))
    hubs = re.findall(r'href="/explore/([a-z0-9-]+)"', part(page, '<section aria-labelledby="hubs-heading"'))
    assert hubs[0] == "hub"  # linked from six answers, and last by its text
    assert hubs.index("second") < hubs.index("a")  # linked from two, above "Aa…" linked from none
    assert "lone" not in hubs  # 15 answers, 10 hubs: one linked from nothing is not a hub


def test_a_chain_is_the_shortest_one(graph, client):
    page = text_of(client.get("/explore/path", query_string={"from": "start", "to": "end"}))
    chain = re.findall(r'href="/explore/([a-z0-9-]+)"', part(page, '<ol class="chain">', "</ol>"))
    assert chain == ["start", "k", "end"]  # not start, m1, m2, m3, end
    assert "2 steps" in page
    back = text_of(client.get("/explore/path", query_string={"from": "end", "to": "m2"}))  # links either way
    assert re.findall(r'href="/explore/([a-z0-9-]+)"', part(back, '<ol class="chain">', "</ol>")) == \
        ["end", "m3", "m2"]


def test_an_answered_page_lists_the_answers_that_link_to_it(graph, client):
    linked_from = part(text_of(client.get("/q/hub")), '<section class="linked-from"')
    assert "Linked from" in linked_from
    assert sorted(slugs(linked_from)) == ["a", "b", "c", "d", "e", "f"]
    assert '<section class="linked-from"' not in text_of(client.get("/q/lone"))  # linked from nothing: no section


def test_hubs_wait_for_the_first_ranking_and_the_page_still_answers(app, content_dir, client):
    (content_dir / "one.md").write_text(answer("one", "Is one a question?"))
    with app.app_context():
        import_folder(db.session, content_dir)
    page = text_of(client.get("/explore"))
    assert "Is one a question?" not in page and "still being worked out" in page  # not ranked yet
    assert "ranked 1 questions" in app.test_cli_runner().invoke(args=["graph", "rank"]).output
    assert "Is one a question?" in text_of(client.get("/explore"))


def test_orphans_come_a_page_at_a_time(graph, client):
    sign_in(graph, client)
    with graph.app_context():
        from webapp.accounts.models import User

        db.session.scalar(db.select(User)).is_editor = True
        db.session.commit()
    graph.config["REQUESTS_PAGE_SIZE"] = 5
    first, second = (text_of(client.get("/explore/orphans", query_string={"page": n})) for n in (1, 2))
    listed = [slugs(part(p, '<section id="orphan-list"', "</ul>")) for p in (first, second)]
    assert len(listed[0]) == 5 and sorted(listed[0] + listed[1][:3]) == ["a", "b", "c", "d", "e", "f", "lone", "start"]
    assert 'rel="next"' in first and "8 answers" in first
    assert client.get("/explore/orphans", query_string={"page": 3}).status_code == 404
    fragment = text_of(client.get("/explore/orphans", query_string={"page": 2}, headers=HTMX))
    assert fragment.strip().startswith('<section id="orphan-list"') and "<html" not in fragment


def test_orphans_come_newest_first_and_are_counted_only_so_far(graph, client, monkeypatch):
    # In order of their text and counted whole, the list sorted every answer: 56 s at
    # 1,000,000 questions. Newest first, it reads backwards until a page is full.
    from webapp.graph import routes

    sign_in(graph, client)
    with graph.app_context():
        from webapp.accounts.models import User

        db.session.scalar(db.select(User)).is_editor = True
        db.session.commit()
        newest = [slug for (slug,) in db.session.execute(db.select(Question.slug).where(
            Question.slug.in_(["a", "b", "c", "d", "e", "f", "lone", "start"])).order_by(Question.id.desc()))]
    graph.config["REQUESTS_PAGE_SIZE"] = 5
    monkeypatch.setattr(routes, "ORPHANS_COUNTED", 6)  # fewer than the 8 orphans
    first, second = (text_of(client.get("/explore/orphans", query_string={"page": n})) for n in (1, 2))
    listed = [slugs(part(p, '<section id="orphan-list"', "</ul>")) for p in (first, second)]
    assert listed[0] + listed[1] == newest
    assert "More than 6 answers, newest first." in first and 'rel="next"' in first and 'rel="next"' not in second
    assert client.get("/explore/orphans", query_string={"page": 3}).status_code == 404


def random_links(seed: int, nodes: int = 60, links: int = 120) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(rng.randrange(1, nodes + 1), rng.randrange(1, nodes + 1)) for _ in range(links)]


@pytest.mark.parametrize("seed", range(5))
def test_pagerank_is_networkx_s(seed):
    links = random_links(seed) + [(1, 2), (1, 2)]  # a repeated link counts once, as in a DiGraph
    ids = np.arange(1, 61)
    graph = nx.DiGraph()
    graph.add_nodes_from(ids.tolist())
    graph.add_edges_from(links)
    expected = nx.pagerank(graph)
    ours = ranking.pagerank(ids, np.array([f for f, _ in links]), np.array([t for _, t in links]))
    assert np.allclose(ours, [expected[i] for i in ids.tolist()], atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_chains_are_as_short_as_networkx_finds(app, seed):
    from webapp.answers.models import ANSWERED, Question, RelatedLink

    links = [(f, t) for f, t in random_links(seed, links=70) if f != t]
    with app.app_context():
        db.session.add_all(Question(id=i, slug=f"q{i}", text=f"Q{i}?", text_key=f"q{i}", status=ANSWERED, summary="")
                           for i in range(1, 61))
        db.session.flush()
        db.session.add_all(RelatedLink(from_id=f, to_id=t, position=n, kind="curated")
                           for n, (f, t) in enumerate(dict.fromkeys(links)))
        db.session.commit()
        undirected = nx.Graph(links)
        undirected.add_nodes_from(range(1, 61))
        for start, end in [(1, 2), (3, 40), (7, 59), (10, 11), (5, 5)]:
            found = chains.chain(db.session, start, end)
            try:
                expected = nx.shortest_path_length(undirected, start, end)
            except nx.NetworkXNoPath:
                assert found is None
                continue
            assert found is not None and found[0] == start and found[-1] == end and len(found) - 1 == expected
            assert all(undirected.has_edge(a, b) for a, b in zip(found, found[1:], strict=False))


def test_each_category_shows_its_five_most_central_answers_read_in_one_query(app, content_dir, client):
    """Seven answers in "science" and three in "food": each category's hubs on /explore
    are its own first five by PageRank (networkx's, on the same links), from the places
    `flask graph rank` stored, whatever the number of categories."""
    related = {"s0": [], "s1": ["s0"], "s2": ["s0", "s1"], "s3": ["s0", "s1"], "s4": ["s0"], "s5": ["s4"],
               "s6": ["s5"], "f0": ["s0"], "f1": ["f0"], "f2": ["f0", "f1"]}
    for slug, links_to in related.items():
        category = "science" if slug.startswith("s") else "food"
        (content_dir / f"{slug}.md").write_text(answer(slug, f"Question {slug}?", related=[f"slug: {r}" for r in links_to],
                                                       category=category))
    with app.app_context():
        import_folder(db.session, content_dir)
        ranking.compute(db.session)
        db.session.commit()
    rank = nx.pagerank(nx.DiGraph([(s, t) for s, ts in related.items() for t in ts]))
    best = {c: sorted((s for s in related if s.startswith(c[0])), key=lambda s: -rank.get(s, 0))[:5]
            for c in ("science", "food")}
    statements = []
    with app.app_context():
        from sqlalchemy import event

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        page = text_of(client.get("/explore"))
        event.remove(db.engine, "before_cursor_execute", record)
    clusters = part(page, 'id="clusters-heading"')
    for category, expected in best.items():
        shown = slugs(part(clusters, f'/c/{category}"', "</ul>"))
        assert shown == expected, (category, shown, expected)
    # The hubs, every category's hubs, their questions, the categories: not one query a category.
    assert sum("question_rank" in s for s in statements) == 2, statements


@pytest.mark.parametrize("seed", range(8))
def test_the_explorer_draws_networkx_s_breadth_first_tree(seed):
    """Each ring-one question carries the ring-two questions first reached through it,
    neighbours taken in ring order, as networkx's breadth-first walk finds them."""
    from webapp.graph import explorer

    rng = random.Random(seed)
    first, second = tuple(rng.sample(range(2, 8), 6)), tuple(rng.sample(range(8, 20), 12))  # rings in text order
    edges = {(1, node, "curated") for node in first}
    edges |= {(rng.choice(first), node, "suggested") for node in second}
    edges |= {(rng.choice(second), rng.choice(first), "curated") for _ in range(15)}
    edges |= {(rng.choice(second), rng.choice(second), "curated") for _ in range(6)}
    rings = ((1,), first, second)

    graph = nx.Graph()
    graph.add_nodes_from(node for ring in rings for node in ring)
    graph.add_edges_from((s, t) for s, t, _ in edges if s != t)
    order = {node: index for ring in rings for index, node in enumerate(ring)}
    parent = dict(nx.bfs_predecessors(graph, 1, sort_neighbors=lambda nodes: sorted(nodes, key=order.get)))
    expected = tuple((node, tuple(child for child in second if parent.get(child) == node)) for node in first)

    assert explorer._tree(1, rings, {(s, t, k) for s, t, k in edges if s != t}) == expected
    assert sum(len(children) for _, children in expected) == len(second)


def test_a_step_of_how_are_these_connected_reads_the_links_from_indexes_alone(app):
    """Each step of the chain search reads the links of a frontier of up to thousands of
    questions: from indexes that hold both ends, never the links' rows (at 100,000
    questions a frontier of 1,000 took 85-90 ms reading the rows, 15-20 ms without)."""
    from sqlalchemy import text

    from tests.apps import query_plan
    from webapp.answers.models import ANSWERED, Question, RelatedLink

    with app.app_context():
        db.session.add_all(Question(id=i, slug=f"q{i}", text=f"Q{i}?", text_key=f"q{i}", status=ANSWERED, summary="")
                           for i in range(1, 41))
        db.session.flush()
        db.session.add_all(RelatedLink(from_id=f, to_id=t, position=1, kind="curated")
                           for f, t in dict.fromkeys(random_links(1, nodes=40, links=120)) if f != t)
        db.session.commit()
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:  # what a table's visibility map holds after autovacuum
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE related_link"))
        statement = chains.links_touching(db.session, [3, 7, 11])
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = query_plan(sql)

    if postgres:
        assert plan.count("Index Only Scan") == 2, plan
        assert "Heap" not in plan and "Seq Scan" not in plan, plan
    else:
        assert plan.count("COVERING INDEX") == 2, plan


def test_two_rankings_at_once_write_one_after_the_other(graph):
    # An import's ranking and the scheduled one: each deletes the old ranks and inserts
    # every question's, and the second to delete waited for the first's commit, then
    # failed on the first's new rows.
    import threading

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from webapp.graph.models import QuestionRank

    with graph.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite writes one transaction at a time")
        first, second = Session(db.engine), Session(db.engine)
        outcome = {}

        def rank_again():
            try:
                outcome["ranked"] = ranking.compute(second)
                second.commit()
            except Exception as error:  # noqa: BLE001 - what the test reports
                outcome["error"] = error
                second.rollback()

        try:
            ranking.compute(first)  # not committed yet
            other = threading.Thread(target=rank_again)
            other.start()
            other.join(0.5)
            first.commit()
            other.join(10)
        finally:
            first.close()
            second.close()
        assert "error" not in outcome and outcome["ranked"] == len(GRAPH)
        assert db.session.scalar(select(func.count()).select_from(QuestionRank)) == len(GRAPH)
