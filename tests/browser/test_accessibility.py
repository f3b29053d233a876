"""axe-core over every kind of page, as a reader sees it: desktop and phone, light and dark.

One test per way of seeing the site; each visits every page kind in one browser context
and fails with the whole list of violations (rule, page, element), so one run tells
every owner what to fix."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.servers import in_a_thread
from tests.accessibility import axe_violations, report, settle
from tests.apps import drop, import_demo, make_app
from tests.pledging import make_campaign, post_pledge
from tests.readers import PASSWORD, Auth, make_user

pytestmark = pytest.mark.browser

EDITOR = "editor@example.org"
ANSWER = "/q/why-is-the-sky-blue"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HIGH = "100000 per minute"  # four logins a run, and reruns: never limited


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo content with its suggested links, a running campaign (so the supporter
    widget shows its full ask), and an editor's account (the editors' pages too) with a
    pledge (so "My support" lists one, with its cancel button)."""
    app = make_app(tmp_path_factory.mktemp("accessibility"), LOGIN_LIMIT_ADDRESS=HIGH,
                   LOGIN_LIMIT_ACCOUNT_ADDRESS=HIGH)
    import_demo(app)
    make_campaign(app)
    make_user(app, EDITOR, "Edi Tor", PASSWORD, editor=True)
    client = app.test_client()
    Auth(app, client).login(EDITOR)
    assert post_pledge(client).status_code == 200
    with in_a_thread(app) as url:
        yield url
    drop(app)


def open_a_section(page):
    section = page.locator("#section-2")
    section.locator("summary").click()
    expect(section.locator(".section-body p").first).to_be_visible()


def type_a_search(page):
    """The results as they arrive while typing (htmx fragments, counts after), not the
    plain page."""
    page.get_by_role("searchbox", name="Search questions").first.fill("lightning")
    expect(page.locator("#results .hit").first).to_be_visible()


def lists_the_pledge(page):
    expect(page.locator(".pledge-list li")).to_have_count(1)


def log_in(page):
    page.get_by_label("Email").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Site").get_by_role("link", name="Edi Tor")).to_be_visible()


@dataclass
class Visit:
    name: str
    path: str
    before: Callable | None = None  # what the reader does before axe looks
    after: Callable | None = None  # what they do next, for the pages that follow
    status: int = 200


# In this order: the last logged-out page logs in, and the pages after it are a reader's own.
VISITS = [
    Visit("home", "/"),
    Visit("answer page, a section open", ANSWER, before=open_a_section),
    Visit("a section's own page", ANSWER + "/sections/2"),
    Visit("unanswered question", "/q/how-fast-can-an-ostrich-run"),
    Visit("category", "/c/science"),
    Visit("search results", "/search?q=lightning"),
    Visit("search results while typing", "/about", before=type_a_search),
    Visit("search with no results", "/search?q=zzyzxqq"),
    Visit("did you mean", "/search?q=vikngs"),
    Visit("explore", "/explore"),
    Visit("explorer", "/explore/why-is-the-sky-blue"),
    Visit("path between two questions", "/explore/path?from=why-is-the-sky-blue&to=napoleon-short"),
    Visit("most requested", "/requests"),
    Visit("support", "/support"),
    Visit("about", "/about"),
    Visit("404", "/q/no-such-question", status=404),
    Visit("register", "/register"),
    Visit("login", "/login", after=log_in),
    Visit("account (logged in)", "/account"),
    Visit("my support (logged in)", "/support/mine", before=lists_the_pledge),
    Visit("orphans (editor)", "/explore/orphans"),
    Visit("search gaps (editor)", "/search/gaps"),
]


@pytest.mark.parametrize("viewport, scheme", [(DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")],
                         ids=["desktop-light", "desktop-dark", "phone-light", "phone-dark"])
def test_every_page_kind_has_no_axe_violations(browser, site, viewport, scheme):
    context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    how = f"{'desktop' if viewport is DESKTOP else 'phone'}, {scheme}"
    found = []
    try:
        for visit in VISITS:
            response = page.goto(site + visit.path)
            assert response.status == visit.status, f"{visit.path}: {response.status}"
            if visit.before:
                settle(page)
                visit.before(page)
            found += axe_violations(page, f"{visit.name}: {visit.path} ({how})")
            if visit.after:
                visit.after(page)
    finally:
        context.close()
    if found:
        pytest.fail(report(found), pytrace=False)
