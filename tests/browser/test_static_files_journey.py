"""Static files as a reader's browser meets them (issue 12): compressed, styled and
scripted from one stylesheet and one script, no console errors, and a returning reader
downloads the page alone."""
import pytest
from playwright.sync_api import expect

from tests.network import record_visit

pytestmark = pytest.mark.browser
SKY = "/q/why-is-the-sky-blue"


def test_a_returning_reader_downloads_the_page_alone(page, live_server):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    first = record_visit(page, live_server + SKY)
    files = [r for r in first.over_network() if r.url.endswith((".css", ".js"))]
    assert len(files) == 2  # one stylesheet, one script
    for request in [*files, *(r for r in first.over_network() if first.group(r) == "page")]:
        assert request.encoding == "br", request.url  # chromium asks for br, and gets it
    # Styled by Pico and our styles, and our scripts ran (htmx among them).
    assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
    expect(page.locator("html")).not_to_have_class("no-js")
    assert page.evaluate("typeof window.htmx") == "object"
    assert problems == []

    again = record_visit(page.context.new_page(), live_server + SKY)
    assert again.count("page") == 1
    assert again.count("static") == 0, [r.url for r in again.over_network() if again.group(r) == "static"]
    assert {again.group(r) for r in again.cached()} == {"static"}
