"""A reader on an answer page, in a real browser, with and without JavaScript."""
import re

import pytest
from playwright.sync_api import expect

from tests.accessibility import longest_line, text_contrast

pytestmark = pytest.mark.browser
SKY = "/q/why-is-the-sky-blue"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def test_reader_expands_a_section_follows_a_citation_and_a_related_question(page, live_server):
    page.goto(live_server + SKY)
    expect(page.get_by_role("heading", level=1)).to_have_text("Why is the sky blue?")
    expect(page.get_by_text("Plumb can make mistakes. Please verify important information.")).to_be_visible()

    # Opening a section loads its body with htmx the first time.
    section = page.locator("#section-2")
    with page.expect_response(re.compile(r"/sections/2$")):
        section.locator("summary").click()
    expect(section.locator(".section-body")).to_contain_text("Rayleigh")
    expect(section.locator(".skeleton")).to_have_count(0)

    # A citation names its source on focus and jumps to it when followed.
    citation = page.locator(".summary a.cite").first
    citation.focus()
    expect(citation).to_have_attribute("data-tooltip", re.compile("NASA"))
    citation.click()
    expect(page).to_have_url(re.compile(r"#source-1$"))
    expect(page.locator("#source-1")).to_be_in_viewport()

    # "Want to dive deeper?" leads to another answer.
    related = page.locator(".related a").first
    title = related.inner_text()
    related.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_expand_all_opens_and_loads_every_section(page, live_server):
    page.goto(live_server + SKY)
    page.get_by_role("button", name="Expand all").click()
    sections = page.locator("details.answer-section")
    count = sections.count()
    assert count >= 3
    for index in range(count):
        expect(sections.nth(index)).to_have_attribute("open", "")
        expect(sections.nth(index).locator(".section-body p").first).to_be_visible()


def test_a_section_named_in_the_address_opens_on_load(page, live_server):
    page.goto(live_server + SKY + "#section-3")
    expect(page.locator("#section-3")).to_have_attribute("open", "")
    expect(page.locator("#section-3 .section-body")).to_contain_text("violet")
    expect(page.locator("#section-1")).not_to_have_attribute("open", "")


def test_without_javascript_every_section_body_is_on_the_page(page_without_js, live_server):
    page = page_without_js
    page.goto(live_server + SKY)
    sections = page.locator("details.answer-section")
    assert sections.count() >= 3
    expect(page.get_by_role("button", name="Expand all")).to_be_hidden()
    for index in range(sections.count()):
        section = sections.nth(index)
        section.locator("summary").click()  # details open natively, no script involved
        expect(section.locator(".section-body p").first).to_be_visible()
        expect(section.locator(".skeleton")).to_be_hidden()


def test_an_unknown_question_shows_a_404_page_with_search(page, live_server):
    response = page.goto(live_server + "/q/no-such-question")
    assert response.status == 404
    search = page.get_by_role("main").get_by_role("searchbox", name="Search questions")
    search.fill("sky blue")
    search.press("Enter")
    expect(page.get_by_role("link", name="Why is the sky blue?")).to_be_visible()


def test_expand_all_becomes_collapse_all_when_every_section_is_open(page, live_server):
    page.goto(live_server + SKY)
    sections = page.locator("details.answer-section")
    page.get_by_role("button", name="Expand all").click()
    expect(page.get_by_role("button", name="Expand all")).to_have_count(0)
    page.get_by_role("button", name="Collapse all").click()
    for index in range(sections.count()):
        expect(sections.nth(index)).not_to_have_attribute("open", "")
    expect(page.get_by_role("button", name="Collapse all")).to_have_count(0)

    # Opening every section by hand counts too, and closing one offers "Expand all" again.
    for index in range(sections.count()):
        sections.nth(index).locator("summary").click()
    expect(page.get_by_role("button", name="Collapse all")).to_be_visible()
    sections.first.locator("summary").click()
    expect(page.get_by_role("button", name="Expand all")).to_be_visible()


def test_expand_all_still_works_after_back_from_a_search(page, live_server):
    """Found in review: htmx puts the page back from its saved copy, whose button had
    lost its listener; it showed "Expand all" and did nothing."""
    page.goto(live_server + SKY)
    page.locator("#site-search").fill("lightning")
    page.wait_for_url("**/search?q=lightning*")
    expect(page.locator("#results")).to_be_visible()
    page.go_back()
    page.wait_for_url("**" + SKY)
    page.get_by_role("button", name="Expand all").click()
    sections = page.locator("details.answer-section")
    for index in range(sections.count()):
        expect(sections.nth(index)).to_have_attribute("open", "")
    expect(page.get_by_role("button", name="Collapse all")).to_be_visible()


def test_opening_a_section_puts_it_in_the_address_without_a_history_entry(page, live_server):
    page.goto(live_server + SKY)
    entries = page.evaluate("history.length")
    page.locator("#section-3 summary").click()
    expect(page).to_have_url(live_server + SKY + "#section-3")
    page.locator("#section-2 summary").click()
    expect(page).to_have_url(live_server + SKY + "#section-2")
    assert page.evaluate("history.length") == entries  # Back still leaves the page, not the section

    # The address now opens that section for whoever it is shared with.
    page.reload()
    expect(page.locator("#section-2")).to_have_attribute("open", "")
    expect(page.locator("#section-2 .section-body")).to_contain_text("Rayleigh")

    # Closing the section the address names takes its name out of the address.
    page.locator("#section-2 summary").click()
    expect(page).to_have_url(live_server + SKY)
    # "Expand all" names no section; "Collapse all" closes the named one, so its name goes.
    page.locator("#section-1 summary").click()
    page.get_by_role("button", name="Expand all").click()
    expect(page).to_have_url(live_server + SKY + "#section-1")
    page.get_by_role("button", name="Collapse all").click()
    expect(page).to_have_url(live_server + SKY)
    assert page.evaluate("history.length") == entries


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_quieter_text_of_an_answer_is_readable_in_light_and_dark(open_page, live_server, scheme, viewport):
    page = open_page(color_scheme=scheme, viewport=viewport)
    page.goto(live_server + SKY)
    for quiet in [".checked", ".checked time", ".disclaimer", ".section-number", ".publisher"]:
        ratio = text_contrast(page.locator(quiet))
        assert ratio >= 4.5, f"{quiet} in {scheme}: contrast {ratio:.2f}:1, WCAG AA asks 4.5:1"


def test_reading_text_keeps_to_a_comfortable_line_length_on_desktop(open_page, live_server):
    page = open_page(viewport=DESKTOP)
    page.goto(live_server + SKY)
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator("#section-1 .section-body p").first).to_be_visible()
    for reading in [".summary p", "#section-1 .section-body p", ".sources ol"]:
        characters = longest_line(page.locator(reading))
        assert characters <= 75, f"{reading}: {characters} characters on its longest line"
    for paragraph in [".summary p", "#section-1 .section-body p"]:  # long enough to wrap
        characters = longest_line(page.locator(paragraph))
        assert characters >= 60, f"{paragraph} is squeezed: {characters} characters on its longest line"
    # The page's frame is not squeezed with it: the heading bar still spans the column.
    bar = page.locator(".sections-bar").bounding_box()
    summary = page.locator(".summary p").first.bounding_box()
    assert bar["width"] > summary["width"]
