"""The explorer (a question's neighbourhood, drawn and listed) and the reader's trail."""
import math
import re

import pytest
from sqlalchemy import or_, select

from tests.pages import HTMX, form_token, links, part, text_of
from tests.readers import make_user
from webapp.answers.models import Question, RelatedLink
from webapp.extensions import db
from webapp.graph import explorer

SKY = "why-is-the-sky-blue"


def neighbours(app, slug) -> set[str]:
    """Slugs one link away, in either direction, from the database."""
    with app.app_context():
        qid = db.session.scalar(select(Question.id).where(Question.slug == slug))
        rows = db.session.execute(select(RelatedLink.from_id, RelatedLink.to_id)
                                  .where(or_(RelatedLink.from_id == qid, RelatedLink.to_id == qid))).all()
        ids = {i for row in rows for i in row} - {qid}
        return set(db.session.scalars(select(Question.slug).where(Question.id.in_(ids))))


def drawn(page: str) -> list[str]:
    """The questions the drawing links to (every one but the centre)."""
    svg = part(page, "<svg", "</svg>")
    return re.findall(r'<a href="/explore/([a-z0-9-]+)\?hops=\d"', svg)


def listed(page: str) -> list[str]:
    return [href.split("/explore/")[1].split("?")[0]
            for href, _ in links(part(page, '<section class="neighbourhood"')) if "/explore/" in href]


def numbers_drawn(page: str) -> dict[str, str]:
    """slug -> the number in its circle."""
    svg = part(page, "<svg", "</svg>")
    return dict(re.findall(r'<a href="/explore/([a-z0-9-]+)\?hops=\d".*?<text[^>]*>(\d+)</text>', svg, re.S))


def numbers_listed(page: str) -> dict[str, str]:
    """slug -> the number beside it in the list."""
    section = part(page, '<section class="neighbourhood"')
    return {slug: number for number, slug in re.findall(
        r'<span class="node-number[^"]*" aria-hidden="true">(\d+)</span>\s*<span><a href="/explore/([a-z0-9-]+)\?', section)}


def test_one_hop_draws_and_lists_every_neighbour(demo, client):
    page = text_of(client.get(f"/explore/{SKY}"))
    expected = neighbours(demo, SKY)
    assert set(drawn(page)) == expected and len(drawn(page)) == len(expected)
    assert set(listed(page)) == expected
    assert 'class="node hop-1 unanswered"' in page  # "How many times a year…" is not answered
    # The centre is named in a box of its own, not a link to the page it is on.
    svg = part(page, "<svg", "</svg>")
    assert '<g class="node hop-0">' in svg and f"/explore/{SKY}?" not in svg


def test_every_drawn_question_carries_the_number_it_has_in_the_list(demo, client):
    page = text_of(client.get(f"/explore/{SKY}?hops=2"))
    drawn_numbers, listed_numbers = numbers_drawn(page), numbers_listed(page)
    assert drawn_numbers == listed_numbers and len(drawn_numbers) == len(drawn(page))
    assert sorted(int(n) for n in drawn_numbers.values()) == list(range(1, len(drawn_numbers) + 1))


def test_the_drawing_is_a_picture_of_the_list_for_assistive_technology(demo, client):
    # Links inside role=img are nested interaction (axe). The list holds the same links,
    # so the drawing is hidden from screen readers and its links are out of the Tab order.
    page = text_of(client.get(f"/explore/{SKY}?hops=2"))
    svg_tag = part(page, "<svg", ">")
    assert 'aria-hidden="true"' in svg_tag and 'role="img"' not in svg_tag
    anchors = re.findall(r"<a [^>]*>", part(page, "<svg", "</svg>"))
    assert anchors and all('tabindex="-1"' in a for a in anchors)


def test_two_hops_add_the_neighbours_neighbours(demo, client):
    first = neighbours(demo, SKY)
    second = set().union(*(neighbours(demo, slug) for slug in first)) - first - {SKY}
    page = text_of(client.get(f"/explore/{SKY}?hops=2"))
    assert set(drawn(page)) == first | second
    assert "Two steps away" in page


def test_two_hops_at_the_edge_of_the_graph(demo, client):
    # Reached only from "Do ostriches bury their heads in the sand?".
    page = text_of(client.get("/explore/how-fast-can-an-ostrich-run?hops=2"))
    ring = re.findall(r'href="/explore/([a-z0-9-]+)\?', part(page, "<h2>Directly related</h2>", "</ol>"))
    assert ring == ["ostriches-bury-heads"]
    assert set(drawn(page)) == ({"ostriches-bury-heads"} | neighbours(demo, "ostriches-bury-heads")) - {"how-fast-can-an-ostrich-run"}


def test_recentring_is_a_fragment_that_pushes_the_address_and_names_the_tab(demo, client):
    response = client.get("/explore/goldfish-memory", headers=HTMX)
    page = text_of(response).lstrip()
    # htmx makes a <title> at the top of a fragment the tab's title.
    title = "<title>Explore: Do goldfish have a three-second memory? — Plumb</title>"
    assert "<html" not in page and page.startswith(title) and page[len(title):].lstrip().startswith('<div id="explorer"')
    assert 'hx-push-url="true"' in page and "HX-Request" in response.headers["Vary"]
    whole = text_of(client.get("/explore/goldfish-memory"))
    assert whole.count(title) == 1 and title in part(whole, "<head>", "</head>")  # in <head> only


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_drawing(around) -> None:
    """What a reader of the drawing relies on: circles apart, clear of the centre's
    box, all inside the view box, and the view box no bigger than what is drawn."""
    r = explorer.NODE_RADIUS
    ring = [n for n in around.nodes if n.hop > 0]
    for i, a in enumerate(ring):
        for b in ring[i + 1:]:
            assert math.dist((a.x, a.y), (b.x, b.y)) >= explorer.NODE_SPACING - 0.5, (a.text, b.text)
    label = around.label
    box = (around.center.x - label.width / 2, around.center.y - label.height / 2,
           around.center.x + label.width / 2, around.center.y + label.height / 2)
    boxes = [(n.x - r, n.y - r, n.x + r, n.y + r) for n in ring]
    assert not any(_overlap(box, b) for b in boxes)
    left, top = min(b[0] for b in [box, *boxes]), min(b[1] for b in [box, *boxes])
    right, bottom = max(b[2] for b in [box, *boxes]), max(b[3] for b in [box, *boxes])
    pad = explorer.PADDING
    assert (left, top) == pytest.approx((pad, pad), abs=0.2)
    assert (around.width - right, around.height - bottom) == pytest.approx((pad, pad), abs=0.2)


@pytest.mark.parametrize("slug", [SKY, "goldfish-memory", "how-fast-can-an-ostrich-run"])
@pytest.mark.parametrize("hops", [1, 2])
def test_the_drawing_keeps_its_questions_apart_and_fits_its_view_box(demo, slug, hops):
    with demo.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        check_drawing(explorer.neighbourhood(db.session, question, hops))


def test_the_largest_neighbourhood_still_fits_a_phone(demo):
    # MAX_NODES questions, one of them leading to all but one of the rest: the worst case
    # for the rings. 358 px is a 390 px phone less the page's margins; the numbers are
    # 15 units high, and must come out at 12 px or more.
    first = (1, 2, 3)
    tree = ((1, tuple(range(10, 10 + explorer.MAX_NODES - 4))), (2, ()), (3, ()))
    label = explorer.center_label("How many times a year is the Empire State Building struck by lightning?")
    positions, width, height = explorer._layout(tree, 0, label)
    assert len(positions) == explorer.MAX_NODES and len(label.lines) == 3 and label.lines[-1].endswith("…")
    assert 15 * 358 / width >= 12
    assert all(math.dist(positions[a], positions[b]) >= explorer.NODE_SPACING - 0.5
               for a in first for b in first if a < b)


@pytest.mark.parametrize("url, status", [
    (f"/explore/{SKY}?hops=3", 400), (f"/explore/{SKY}?hops=x", 400), ("/explore/no-such-question", 404),
])
def test_explorer_rejects_bad_input(demo, client, url, status):
    assert client.get(url).status_code == status


def path_of(page: str) -> list[str]:
    if '<nav id="trail"' not in page or "<ol>" not in part(page, '<nav id="trail"', "</nav>"):
        return []
    trail = part(page, '<nav id="trail"', "</nav>")
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", trail, re.S)]


def test_the_trail_shows_the_questions_visited_in_order(demo, client):
    for slug in (SKY, "goldfish-memory", "bats-are-blind"):
        page = text_of(client.get(f"/q/{slug}"))
    assert path_of(page) == ["Why is the sky blue?", "Do goldfish have a three-second memory?", "Are bats blind?"]
    page = text_of(client.get(f"/q/{SKY}"))  # a second visit moves it to the end
    assert path_of(page)[-1] == "Why is the sky blue?" and len(path_of(page)) == 3
    assert path_of(text_of(client.get(f"/explore/{SKY}")))[-1] == "Why is the sky blue?"


def test_the_trail_keeps_the_last_ten(demo, client):
    with demo.app_context():
        slugs = db.session.scalars(select(Question.slug).where(Question.status == "answered").order_by(Question.slug)).all()
    for slug in slugs[:12]:
        page = text_of(client.get(f"/q/{slug}"))
    assert len(path_of(page)) == 10


def test_the_trail_can_be_cleared_with_a_csrf_protected_post(demo, client):
    client.get(f"/q/{SKY}")
    page = text_of(client.get("/q/goldfish-memory"))
    token = form_token(part(page, '<nav id="trail"', "</nav>"))
    assert client.post("/trail/clear").status_code == 400  # no token: refused, nothing changes
    assert len(path_of(text_of(client.get("/q/goldfish-memory")))) == 2
    response = client.post("/trail/clear", data={"csrf_token": token}, headers=HTMX)
    assert response.status_code == 200 and "<ol>" not in text_of(response)
    assert path_of(text_of(client.get("/q/bats-are-blind"))) == []  # one question is no path yet


def test_clearing_without_javascript_goes_back_only_to_this_site(demo, client):
    page = text_of(client.get(f"/q/{SKY}"))
    page = text_of(client.get("/q/goldfish-memory"))
    token = form_token(page)
    back = client.post("/trail/clear", data={"csrf_token": token}, headers={"Referer": "http://localhost/q/goldfish-memory"})
    assert back.status_code == 303 and back.headers["Location"] == "http://localhost/q/goldfish-memory"
    evil = client.post("/trail/clear", data={"csrf_token": token}, headers={"Referer": "https://evil.example/"})
    assert evil.status_code == 403 and "Location" not in evil.headers  # sent from another site: refused


# --- hubs, orphans and chains --------------------------------------------------------------

def test_explore_lists_hubs_and_each_categorys_centre(demo, client):
    page = text_of(client.get("/explore"))
    hubs = re.findall(r'href="/explore/([a-z0-9-]+)"', part(page, '<section aria-labelledby="hubs-heading"'))
    assert len(hubs) == 10 and len(set(hubs)) == 10
    clusters = part(page, '<section aria-labelledby="clusters-heading"')
    assert clusters.count("<h3>") == 6
    fragment = client.get("/explore", headers=HTMX)
    assert "<html" not in text_of(fragment) and "Hubs" in text_of(fragment)


def test_orphans_are_for_editors(demo, client, auth):
    logged_out = client.get("/explore/orphans")
    assert logged_out.status_code == 302 and logged_out.headers["Location"] == "/login?next=/explore/orphans"
    auth.register()
    auth.login()
    assert client.get("/explore/orphans").status_code == 403  # a reader, not an editor
    make_user(demo, "editor@example.org", "Ed Itor", editor=True)
    auth.logout()
    auth.login("editor@example.org")
    assert "Orphaned answers" in text_of(client.get("/explore/orphans"))


def test_editors_see_which_related_questions_were_suggested_automatically(demo, client, auth):
    page = text_of(client.get(f"/q/{SKY}"))
    assert 'data-kind="suggested"' in page and "suggested automatically" not in page
    make_user(demo, "editor@example.org", "Ed Itor", editor=True)
    auth.login("editor@example.org")
    related = part(text_of(client.get(f"/q/{SKY}")), '<section class="related"')
    marked = related.count("suggested automatically")
    assert marked == related.count('data-kind="suggested"') and marked > 0


def test_a_chain_joins_two_questions_by_related_links(demo, client):
    page = text_of(client.get("/explore/path", query_string={"from": SKY, "to": "goldfish-memory"}))
    chain = re.findall(r'href="/explore/([a-z0-9-]+)"', part(page, '<ol class="chain">', "</ol>"))
    assert chain[0] == SKY and chain[-1] == "goldfish-memory"
    for a, b in zip(chain, chain[1:], strict=False):
        assert b in neighbours(demo, a)  # each step is a real link, either way
    assert f"{len(chain) - 1} step" in page


def test_the_other_question_can_be_found_by_words(demo, client):
    response = client.get("/explore/path", query_string={"from": SKY, "q": "goldfish memory"}, headers=HTMX)
    page = text_of(response)
    assert "<html" not in page and page.lstrip().startswith('<section id="path-result"')
    assert "Do goldfish have a three-second memory?" in page and '<ol class="chain">' in page


def test_no_chain_between_unconnected_questions(app, client, content_dir):
    from tests.answer_files import answer
    from webapp.content.importer import import_folder

    (content_dir / "a.md").write_text(answer("island-a", "Is island A connected?"))
    (content_dir / "b.md").write_text(answer("island-b", "Is island B connected?"))
    with app.app_context():
        import_folder(db.session, content_dir)
    page = text_of(client.get("/explore/path?from=island-a&to=island-b"))
    assert "No chain found" in page


def test_a_chain_needs_a_real_starting_question(demo, client):
    assert client.get("/explore/path?from=nope&q=sky").status_code == 404


@pytest.mark.parametrize("query", [
    {"from": "\x00", "q": "sky"}, {"from": "A" * 500}, {"from": SKY, "to": "\x00bad"}, {"from": SKY, "q": "\x00" * 50},
])
def test_odd_chain_arguments_are_a_4xx_or_a_message_never_a_500(demo, client, query):
    assert client.get("/explore/path", query_string=query).status_code in (200, 404)
