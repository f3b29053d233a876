"""A reader searching, in a real browser: as they type, with facets and Back, and without JavaScript."""
import re

import pytest
from playwright.sync_api import expect

from tests.servers import in_a_thread
from tests.apps import drop, make_app
from tests.readers import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_results_follow_the_typing_and_back_restores_them(page, live_server):
    page.goto(live_server + "/q/napoleon-short")
    box = page.get_by_role("searchbox", name="Search questions")
    box.press_sequentially("light", delay=120)
    expect(page).to_have_url(re.compile(r"/search\?q=light$"))
    box.press_sequentially("ning", delay=120)
    expect(page).to_have_url(re.compile(r"/search\?q=lightning$"))
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Does lightning ever strike the same place twice?")).to_be_visible()
    expect(results.locator("mark").first).to_have_text(re.compile("lightning", re.I))
    # The results came first; their count and the filters arrive by themselves just after.
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"^\d+ results? for “lightning”$"))
    before = results.locator(".hit").count()

    # A facet narrows the results in place and is pushed to the history.
    results.locator(".facets").get_by_role("link", name=re.compile(r"^Not answered yet")).click()
    expect(page).to_have_url(re.compile(r"status=unanswered"))
    expect(results.locator(".hit")).to_have_count(1)
    expect(results.get_by_text("How many times a year is the Empire State Building struck by lightning?")).to_be_visible()

    page.go_back()
    expect(page).to_have_url(re.compile(r"/search\?q=lightning$"))
    expect(page.locator("#results .hit")).to_have_count(before)


def test_a_reader_s_own_words_find_the_answer_by_meaning(page, live_server):
    """Not one of these words is in the incognito answer; as they type, it comes up,
    saying why, and opens."""
    page.goto(live_server + "/about")
    page.get_by_role("searchbox", name="Search questions").fill("can my office wifi spot pages i view in a hidden tab")
    hit = page.locator("#results .hit").filter(
        has=page.get_by_role("link", name="Does incognito mode make you anonymous online?"))
    expect(hit.get_by_text("related in meaning")).to_be_visible()
    expect(hit.locator("mark")).to_have_count(0)
    hit.get_by_role("link", name="Does incognito mode make you anonymous online?").click()
    expect(page).to_have_url(re.compile(r"/q/incognito-mode-anonymous$"))


def test_a_typo_offers_a_correction(page, live_server):
    page.goto(live_server + "/search?q=vikngs")
    # exact: the answer itself may be among the results already (found by meaning).
    page.locator(".did-you-mean").get_by_role("link", name="vikings", exact=True).click()
    expect(page.locator("#results").get_by_role("link", name="Did Vikings wear horned helmets?")).to_be_visible()


def test_without_javascript_the_form_still_searches(page_without_js, live_server):
    page = page_without_js
    page.goto(live_server + "/")
    box = page.get_by_role("searchbox", name="Search questions")
    box.fill("goldfish")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=goldfish$"))
    expect(page.get_by_role("link", name="Do goldfish have a three-second memory?")).to_be_visible()
    page.locator(".facets").get_by_role("link", name=re.compile(r"^Newest")).click()
    expect(page).to_have_url(re.compile(r"sort=newest"))


# --- history: one entry per search, the box in step with the results ----------------------

def typed_with_pauses(box, text: str) -> None:
    """Letter by letter, each pause longer than the box waits before it searches (300 ms)
    and shorter than a reader's stop (search.js SETTLE_MS), so every pause searches."""
    box.press_sequentially(text, delay=450)


def test_typing_with_pauses_is_one_entry_and_back_leaves_the_search_in_one_step(page, live_server):
    page.goto(live_server + "/q/napoleon-short")
    entries = page.evaluate("history.length")
    box = page.get_by_role("searchbox", name="Search questions")
    typed_with_pauses(box, "strike")
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “strike”$"))
    expect(page).to_have_url(re.compile(r"/search\?q=strike$"))
    assert page.evaluate("history.length") == entries + 1

    page.go_back()
    expect(page).to_have_url(re.compile(r"/q/napoleon-short$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Was Napoleon unusually short?")
    expect(page.get_by_role("searchbox", name="Search questions")).to_have_value("")


def test_a_search_the_reader_stopped_at_is_kept_and_back_shows_it_with_its_query(page, live_server):
    page.clock.install()  # the reader's stop is a jump of the page's clock, not a wait
    page.goto(live_server + "/")
    box = page.get_by_role("searchbox", name="Search questions")
    box.press_sequentially("lightning")
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “lightning”$"))
    page.clock.fast_forward(5_000)
    box.press_sequentially(" strike")
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “lightning strike”$"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"/search\?q=lightning$"))
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “lightning”$"))
    expect(page.get_by_role("searchbox", name="Search questions")).to_have_value("lightning")
    page.go_forward()
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “lightning strike”$"))
    expect(page.get_by_role("searchbox", name="Search questions")).to_have_value("lightning strike")


# Every htmx request of the page answered and swapped in.
SWAPPED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def test_submitting_the_search_on_screen_adds_no_second_entry(page, live_server):
    page.goto(live_server + "/q/napoleon-short")
    entries = page.evaluate("history.length")
    box = page.get_by_role("searchbox", name="Search questions")
    box.press_sequentially("goldfish")
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “goldfish”$"))
    with page.expect_response(re.compile(r"/search\?q=goldfish$")):
        box.press("Enter")
    page.wait_for_function(SWAPPED)
    expect(page.locator("#results").get_by_role("link", name="Do goldfish have a three-second memory?")).to_be_visible()
    assert page.evaluate("history.length") == entries + 1
    page.go_back()
    expect(page).to_have_url(re.compile(r"/q/napoleon-short$"))


def test_clearing_the_box_returns_to_the_page_before_searching(page, live_server):
    page.goto(live_server + "/q/napoleon-short")
    box = page.get_by_role("searchbox", name="Search questions")
    typed_with_pauses(box, "gold")
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “gold”$"))
    box.fill("")
    expect(page).to_have_url(re.compile(r"/q/napoleon-short$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Was Napoleon unusually short?")


def test_a_did_you_mean_puts_its_words_in_the_box(page, live_server):
    page.goto(live_server + "/search?q=lightnig")
    page.locator(".did-you-mean").get_by_role("link", name="lightning", exact=True).click()
    expect(page.locator("#results-heading")).to_have_text(re.compile(r"for “lightning”$"))
    expect(page.get_by_role("searchbox", name="Search questions")).to_have_value("lightning")


# --- layout ---------------------------------------------------------------------------------

def width(locator) -> float:
    return locator.bounding_box()["width"]


def test_with_nothing_found_the_help_takes_the_whole_width(open_page, live_server):
    page = open_page(viewport={"width": 1280, "height": 800})
    page.goto(live_server + "/search?q=zzzqqq")
    results, helping = page.locator("#results"), page.locator(".no-results")
    expect(helping).to_be_visible()
    assert width(helping) >= 0.95 * width(results), (width(helping), width(results))
    # With results, the filters keep their column beside them.
    page.goto(live_server + "/search?q=lightning")
    expect(page.locator(".facets h3").first).to_be_visible()
    assert width(page.locator(".hits")) < 0.8 * width(page.locator("#results"))


# --- the header -----------------------------------------------------------------------------

LONG_NAME = "Alexandra Whitfield-Moreno"


@pytest.fixture(scope="module")
def server_with_reader(tmp_path_factory):
    """Like the shared live_server, with a reader's account whose name is long."""
    app = make_app(tmp_path_factory.mktemp("live-header"))
    make_user(app, "alexandra@example.org", LONG_NAME, PASSWORD)
    with in_a_thread(app) as url:
        yield url
    drop(app)


def logged_in(page, url: str):
    page.goto(url + "/login")
    page.get_by_label("Email").fill("alexandra@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name=re.compile("Log in")).click()
    expect(page.locator(".site-header").get_by_role("link", name=LONG_NAME)).to_be_attached()
    return page


# The header's parts (brand, search, links) as rows: parts whose boxes overlap vertically
# share one.
HEADER_ROWS = """() => {
  const boxes = [...document.querySelectorAll('.site-header nav > *')].map(e => e.getBoundingClientRect())
    .filter(b => b.height > 0).sort((a, b) => a.top - b.top);
  let rows = 0, bottom = -Infinity;
  for (const b of boxes) { if (b.top >= bottom) rows += 1; bottom = Math.max(bottom, b.bottom); }
  return rows;
}"""

# Whether the box is wide enough for its placeholder, in the box's own font.
PLACEHOLDER_FITS = """(box) => {
  const style = getComputedStyle(box), context = document.createElement('canvas').getContext('2d');
  context.font = style.font;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(box.placeholder).width <= room;
}"""


@pytest.mark.parametrize("viewport, rows", [({"width": 1280, "height": 800}, 1), ({"width": 390, "height": 844}, 2)],
                         ids=["desktop", "phone"])
def test_the_header_keeps_to_its_rows_with_aligned_controls(open_page, server_with_reader, viewport, rows):
    page = logged_in(open_page(viewport=viewport), server_with_reader)
    page.goto(server_with_reader + "/search?q=lightning")
    assert page.evaluate(HEADER_ROWS) == rows
    header = page.locator(".site-header")
    box, button = header.get_by_role("searchbox", name="Search questions"), header.get_by_role("button", name="Search")
    assert abs(box.bounding_box()["height"] - button.bounding_box()["height"]) < 0.5
    assert abs(box.bounding_box()["y"] - button.bounding_box()["y"]) < 0.5
    assert box.evaluate(PLACEHOLDER_FITS)


def test_the_focus_ring_goes_round_the_box_and_its_button_only(page, live_server):
    page.goto(live_server + "/")
    header = page.locator(".site-header")
    header.get_by_role("searchbox", name="Search questions").focus()
    ring = header.get_by_role("search").bounding_box()
    box = header.get_by_role("searchbox", name="Search questions").bounding_box()
    button = header.get_by_role("button", name="Search").bounding_box()
    assert abs((ring["x"] + ring["width"]) - (button["x"] + button["width"])) < 1
    assert abs(ring["x"] - box["x"]) < 1


def test_the_404_search_box_looks_like_the_headers(page, live_server):
    page.goto(live_server + "/no-such-page")
    header, error = page.locator(".site-header"), page.locator(".error-page")
    for part in (header, error):
        box, button = part.get_by_role("searchbox"), part.get_by_role("button", name="Search")
        assert abs(box.bounding_box()["height"] - button.bounding_box()["height"]) < 0.5
    sizes = [part.get_by_role("searchbox").bounding_box()["height"] for part in (header, error)]
    assert abs(sizes[0] - sizes[1]) < 0.5
