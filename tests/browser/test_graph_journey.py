"""A reader walking the graph: related links, the trail, the explorer and Back; and what
the explorer, the path and /explore look like on a desktop and a phone."""
import re

import pytest
from playwright.sync_api import expect

from tests.graph_drawing import Drawing

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
SKY_AROUND = "/explore/why-is-the-sky-blue"
# A reader's browser: counting leaves headless browsers out of "Most read this week".
READER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def test_follow_related_links_see_the_trail_explore_and_go_back(page, live_server):
    page.goto(live_server + "/q/why-is-the-sky-blue")
    visited = ["Why is the sky blue?"]
    for _ in range(3):
        link = page.locator(".related li:not(:has(.badge-unanswered)) a").first
        visited.append(link.inner_text())
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(visited[-1])
    trail = page.get_by_role("navigation", name="Your path")
    expect(trail.locator("li")).to_have_text(visited)

    page.get_by_role("link", name="Explore the questions around this one").click()
    explorer = page.locator("#explorer")
    expect(explorer.get_by_role("heading", level=1)).to_have_text(visited[-1])
    start = page.url

    first = explorer.locator(".neighbourhood a").first
    first_text = first.inner_text()
    first.click()
    expect(explorer.get_by_role("heading", level=1)).to_have_text(first_text)
    middle = page.url

    node = explorer.locator("svg a.hop-1").first  # re-centre by clicking the drawing
    node_text = re.sub(r"^\d+\. | \(not answered yet\)$", "", node.locator("title").text_content())
    node.click()
    expect(page.locator("#explorer h1")).to_have_text(node_text)
    assert page.url not in (start, middle)

    page.go_back()
    expect(page).to_have_url(middle)
    expect(page.locator("#explorer h1")).to_have_text(first_text)
    page.go_back()
    expect(page).to_have_url(start)
    expect(page.locator("#explorer h1")).to_have_text(visited[-1])


def test_the_tab_title_follows_the_question_in_the_centre(page, live_server):
    page.goto(live_server + SKY_AROUND)
    expect(page).to_have_title("Explore: Why is the sky blue? — Plumb")
    link = page.locator(".neighbourhood a").first
    chosen = link.inner_text()
    link.click()
    expect(page.locator("#explorer h1")).to_have_text(chosen)
    expect(page).to_have_title(f"Explore: {chosen} — Plumb")
    page.get_by_role("link", name="2 steps").click()  # the same question, farther out
    expect(page.locator("#explorer strong[aria-current]")).to_have_text("2 steps")
    expect(page).to_have_title(f"Explore: {chosen} — Plumb")
    page.go_back()
    page.go_back()
    expect(page.locator("#explorer h1")).to_have_text("Why is the sky blue?")
    expect(page).to_have_title("Explore: Why is the sky blue? — Plumb")


@SCREENS
@pytest.mark.parametrize("hops", [1, 2])
def test_the_drawing_numbers_every_question_as_the_list_does_and_nothing_overlaps(open_page, live_server, viewport, hops):
    page = open_page(viewport=viewport)
    page.goto(f"{live_server}{SKY_AROUND}?hops={hops}")
    drawing = Drawing(page)

    assert drawing.overlapping_labels() == []
    assert drawing.labels_under_other_shapes() == []
    # Each question drawn shows the number it has in the list, and only those are drawn.
    assert drawing.numbers() == drawing.listed_numbers()
    assert sorted(map(int, drawing.numbers().values())) == list(range(1, len(drawing.listed) + 1))
    # The centre carries its own name.
    assert drawing.centre_name() == "Why is the sky blue?"
    # Letters a phone can read, and a drawing as tall as what it draws.
    assert drawing.smallest_letters() >= 12
    assert drawing.filled_height > 0.9 and drawing.filled_width > 0.9  # a thin margin, no empty bands


def test_on_a_phone_the_list_comes_before_the_drawing(open_page, live_server):
    page = open_page(viewport=PHONE)
    page.goto(f"{live_server}{SKY_AROUND}?hops=2")
    list_top = page.locator(".neighbourhood").bounding_box()["y"]
    drawing_top = page.locator(".graph-drawing").bounding_box()["y"]
    assert list_top < drawing_top
    expect(page.locator(".neighbourhood a").first).to_be_in_viewport()


def test_on_a_phone_your_path_is_one_line_and_the_answer_starts_on_the_first_screen(open_page, live_server):
    page = open_page(viewport=PHONE)
    for slug in ("bats-are-blind", "bulls-hate-red", "camels-store-water", "why-is-the-sky-blue"):
        page.goto(f"{live_server}/q/{slug}")
    trail = page.get_by_role("navigation", name="Your path")
    items = trail.locator("li")
    expect(items).to_have_count(4)
    tops = items.evaluate_all("items => items.map(li => Math.round(li.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops
    line = trail.evaluate("nav => parseFloat(getComputedStyle(nav).lineHeight)")
    assert trail.bounding_box()["height"] < 2 * line + 16  # one row: the label, the path, Clear
    expect(items.last).to_be_in_viewport()  # the question being read, not the oldest
    summary = page.get_by_role("heading", name="In short")
    assert summary.bounding_box()["y"] < PHONE["height"]


WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, {"width": 1024, "height": 768}, {"width": 800, "height": 800}, PHONE],
                                 ids=["1280", "1024", "800", "phone"])


@WIDTHS
def test_explore_breaks_no_word(open_page, live_server, viewport):
    page = open_page(viewport=viewport)
    page.goto(live_server + "/explore")
    # A category's name is one word or a few: each on one line, never broken mid-word.
    names = page.locator(".clusters h3 a")
    expect(names.filter(has_text="Technology")).to_have_count(1)
    lines = names.evaluate_all("links => links.map(a => [a.textContent, a.getClientRects().length])")
    assert [name for name, count in lines if count != 1] == []


@WIDTHS
def test_most_read_this_week_is_one_line(open_page, live_server, viewport):
    page = open_page(viewport=viewport, user_agent=READER)
    page.goto(live_server + "/q/why-is-the-sky-blue")  # read once, so the home page has a "Most read"
    page.goto(live_server + "/")
    heading = page.get_by_role("heading", name="Most read this week")
    line = heading.evaluate("h => parseFloat(getComputedStyle(h).lineHeight)")
    assert heading.bounding_box()["height"] < 1.5 * line


def test_the_breadcrumb_leaves_the_same_room_either_side_of_its_separator(page, live_server):
    page.goto(live_server + "/q/why-is-the-sky-blue")
    crumbs = page.get_by_role("navigation", name="Breadcrumb").locator("li")
    home, category = crumbs.nth(0).locator("a").bounding_box(), crumbs.nth(1).locator("a").bounding_box()
    # The separator is drawn before the second crumb (a ::before), so measure it there.
    separator = crumbs.nth(1).evaluate("""li => {
      const before = getComputedStyle(li, "::before");
      const probe = document.createElement("span");
      probe.textContent = before.content.replace(/^"|"$/g, "");
      probe.style.font = before.font;
      li.closest("nav").append(probe);
      const width = probe.getBoundingClientRect().width;
      probe.remove();
      return {width, start: li.getBoundingClientRect().left + parseFloat(getComputedStyle(li).paddingLeft)};
    }""")
    space_before = separator["start"] - (home["x"] + home["width"])
    space_after = category["x"] - (separator["start"] + separator["width"])
    assert abs(space_before - space_after) <= 2, (space_before, space_after)
