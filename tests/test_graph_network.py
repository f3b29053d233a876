"""What the whole-graph figures say, on a small graph whose answers are known: the
orphans an editor is shown, the order of the hubs (PageRank), the shortest chain, and
"Linked from" on an answered page."""
import re

import pytest

from tests.answer_files import answer
from tests.pages import links, part, text_of
from tests.readers import sign_in
from webapp.content.importer import import_folder
from webapp.extensions import db

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
