"""A reader walking the graph: related links, the trail, the explorer and Back."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


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
    node_text = node.locator("title").text_content().replace(" (not answered yet)", "")
    node.click()
    expect(page.locator("#explorer h1")).to_have_text(node_text)
    assert page.url not in (start, middle)

    page.go_back()
    expect(page).to_have_url(middle)
    expect(page.locator("#explorer h1")).to_have_text(first_text)
    page.go_back()
    expect(page).to_have_url(start)
    expect(page.locator("#explorer h1")).to_have_text(visited[-1])
