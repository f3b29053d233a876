"""Plumb's progress bar on another site: a plain page served from another local port (and
another host name, so another site) puts /embed/support in an iframe. Allowed by
EMBED_FRAME_ANCESTORS, the frame shows the campaign and follows a pledge made meanwhile;
its link opens /support in a new tab; without JavaScript it is a snapshot. A site the
setting does not name gets nothing: the browser refuses to draw the frame. That page's
own script reads progress.json across origins (CORS, with a preflight)."""
from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.accessibility import axe_violations, report
from tests.apps import drop, make_app
from tests.pledging import make_campaign, post_pledge
from tests.readers import sign_in
from tests.servers import in_a_thread

pytestmark = pytest.mark.browser

POLL_SECONDS = 1
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A newspaper</title></head>
<body><h1>A newspaper that likes Plumb</h1>
<iframe id="plumb" src="{plumb}/embed/support" title="Plumb's supporter campaign: goal and progress"
        width="360" height="240" loading="lazy"></iframe>
</body></html>"""


@dataclass
class Site:
    """A plain page on another port of this machine, named `localhost` (Plumb is
    127.0.0.1: another site to the browser, whose cookies stay apart)."""

    origin: str
    plumb: str = ""  # the embed's server, set once it runs


@contextmanager
def another_site() -> Iterator[Site]:
    site = Site("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = PAGE.format(plumb=site.plumb).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.origin = f"http://localhost:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Setup:
    allowed: Site
    refused: Site
    plumb: str
    app: object


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[Setup]:
    """Two sites, and Plumb allowing one of them to frame its embed."""
    with another_site() as allowed, another_site() as refused:
        app = make_app(tmp_path_factory.mktemp("embed"), SUPPORT_POLL_SECONDS=POLL_SECONDS,
                       EMBED_FRAME_ANCESTORS=allowed.origin)
        with in_a_thread(app) as plumb:
            allowed.plumb = refused.plumb = plumb
            yield Setup(allowed, refused, plumb, app)
        drop(app)


@pytest.fixture(scope="module")
def campaign(sites) -> int:
    return make_campaign(sites.app)


def frame_of(page):
    return page.frame_locator("#plumb")


def test_an_allowed_site_shows_the_progress_and_it_follows_a_pledge(page, sites, campaign):
    page.goto(sites.allowed.origin)
    frame = frame_of(page)
    expect(frame.get_by_role("heading", name="Keep Plumb independent")).to_be_visible()
    expect(frame.locator("#embed-count")).to_have_text("0 of 1,000 supporters · 0%")
    expect(frame.locator("progress#embed-bar")).to_have_attribute("value", "0")
    # A reader pledges on Plumb meanwhile (through its own pledge route); the frame polls.
    reader = sites.app.test_client()
    sign_in(sites.app, reader)
    assert post_pledge(reader, amount="2500").status_code == 200
    expect(frame.locator("progress#embed-bar")).to_have_attribute("value", "1")
    expect(frame.locator("#embed-count")).to_have_text("1 of 1,000 supporters · 0%")
    expect(frame.locator(".embed-totals")).to_have_text("1 supporter · $25 pledged")
    # "Support Plumb" leaves the frame for the campaign page, in a tab of its own.
    with page.context.expect_page() as opened:
        frame.get_by_role("link", name="Support Plumb").click()
    support = opened.value
    support.wait_for_load_state()
    assert support.url == sites.plumb + "/support"
    expect(support.get_by_role("heading", name="Support Plumb", level=1)).to_be_visible()
    assert page.url.rstrip("/") == sites.allowed.origin  # the newspaper stays where it was


def test_without_javascript_the_frame_is_a_snapshot(page_without_js, sites, campaign):
    page_without_js.goto(sites.allowed.origin)
    frame = frame_of(page_without_js)
    expect(frame.locator("#embed-count")).to_contain_text("of 1,000 supporters")
    expect(frame.get_by_role("link", name="Support Plumb")).to_have_attribute("target", "_blank")


def test_a_site_the_setting_does_not_name_gets_no_frame(page, sites, campaign):
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refusal, \
            page.expect_response(lambda response: response.url == sites.plumb + "/embed/support") as answered:
        page.goto(sites.refused.origin)
    assert answered.value.status == 200  # Plumb answered; the browser would not draw it here
    assert sites.refused.plumb in refusal.value.text and f"frame-ancestors 'self' {sites.allowed.origin}" in refusal.value.text
    expect(page.get_by_role("heading", name="A newspaper that likes Plumb")).to_be_visible()
    embedded = page.locator("#plumb").element_handle().content_frame()
    assert not embedded.url.startswith(sites.plumb), embedded.url  # Chromium's error page instead
    expect(frame_of(page).locator("#embed-count")).to_have_count(0)


def test_a_sites_own_script_reads_the_json_across_origins(page, sites, campaign):
    page.goto(sites.allowed.origin)
    # A header of its own makes the browser ask first (a preflight), then the GET.
    answer = page.evaluate("""async (url) => {
        const response = await fetch(url, {headers: {"X-Requested-With": "newspaper"}});
        return {status: response.status, etag: response.headers.get("ETag"), body: await response.json()};
    }""", sites.plumb + "/support/progress.json")
    assert answer["status"] == 200 and answer["etag"]
    assert answer["body"]["title"] == "Keep Plumb independent" and answer["body"]["goal_supporters"] == 1000
    assert answer["body"]["url"] == "https://plumb.example/support"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_embed_at_the_snippets_size_has_no_axe_violations(open_page, sites, campaign, scheme):
    page = open_page(viewport={"width": 360, "height": 240}, color_scheme=scheme)
    page.goto(sites.plumb + "/embed/support")
    found = axe_violations(page, f"the embed ({scheme})")
    assert not found, report(found)
    # Everything fits the snippet's frame: no scrollbar inside someone else's page.
    assert page.evaluate("document.documentElement.scrollHeight") <= 240
