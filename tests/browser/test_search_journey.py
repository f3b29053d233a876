"""A reader searching, in a real browser: as they type, with facets and Back, and without JavaScript."""
import re

import pytest
from playwright.sync_api import expect

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


def test_a_typo_offers_a_correction(page, live_server):
    page.goto(live_server + "/search?q=vikngs")
    page.get_by_role("link", name="vikings").click()
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
