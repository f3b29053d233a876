"""A live server with the demo content, and Debian's chromium driven by Playwright.

The browser is never downloaded: we use the system's chromium. Without one, these
tests skip and say how to get it; under CI=true they fail, so a run that checked no
browser journey cannot pass."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.servers import serving_demo

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        missing = ("browser tests need Debian's chromium: `sudo apt-get install chromium` "
                   "(or set CHROMIUM_PATH); CI installs it")
        if os.environ.get("CI") == "true":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app with the demo content, served on a free port in a thread."""
    with serving_demo(tmp_path_factory.mktemp("live")) as served:
        yield served.url


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def open_page(browser):
    """Pages in browser contexts of their own, seen as asked: `open_page(color_scheme="dark",
    viewport={"width": 390, "height": 844})` takes Playwright's new_context options."""
    contexts = []

    def opened(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield opened
    for context in contexts:
        context.close()
