"""Site-wide pages and behaviour: about, health, search, error pages, headers and odd input."""
from __future__ import annotations

import json
import re

import pytest

from tests.pages import assert_no_server_error, get, links, part, tags, text_of
from tests.pledging import make_campaign

SKY = "why-is-the-sky-blue"


# --- helpers -------------------------------------------------------------------------------

def csp(response) -> dict[str, list[str]]:
    directives = (d.split() for d in response.headers["Content-Security-Policy"].split(";") if d.strip())
    return {d[0]: d[1:] for d in directives}


# --- every route: a page, a fragment, and Vary ---------------------------------------------

ROUTES = [
    ("/about", 200, '<h2 id="method">'),
    ("/search", 200, '<section id="results"'),
    ("/search?q=sky", 200, '<section id="results"'),
    ("/no-such-page", 404, "Page not found"),
    ("/q/no-such-question", 404, "We have no question at this address."),
]


@pytest.mark.parametrize("url, status, marker", ROUTES)
def test_each_route_is_a_whole_page_without_htmx(demo, client, url, status, marker):
    response = get(client, url)
    assert response.status_code == status
    assert "<html" in text_of(response) and marker in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url, status, marker", ROUTES)
def test_each_route_is_only_its_block_for_htmx(demo, client, url, status, marker):
    response = get(client, url, fragment=True)
    assert response.status_code == status
    assert "<html" not in text_of(response) and '<header class="site-header">' not in text_of(response)
    assert marker in text_of(response)
    assert "HX-Request" in response.headers["Vary"]


# --- about and health ----------------------------------------------------------------------

def test_about_explains_how_answers_are_checked(client):
    page = text_of(get(client, "/about"))
    method = part(page, '<h2 id="method">', "</ol>")
    assert "How we check an answer" in method
    assert "Checked on" in method and "12 months" in method
    assert ("/about#method", "How we check") in links(page)  # the footer leads here from every page


@pytest.mark.parametrize("fragment", [False, True])
def test_health_check_answers_json(client, fragment):
    response = get(client, "/healthz", fragment)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(text_of(response)) == {"status": "ok"}


# --- security headers and a policy the pages keep ------------------------------------------

HEADER_URLS = ["/", f"/q/{SKY}", f"/q/{SKY}/sections/1", "/c/science", "/search?q=sky", "/about",
               "/healthz", "/no-such-page", "/static/css/plumb.css", "/support", "/login", "/register"]


@pytest.mark.parametrize("url", HEADER_URLS)
def test_every_response_carries_a_strict_content_policy(demo, client, url):
    response = get(client, url)
    policy = csp(response)
    flat = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in flat and "'unsafe-eval'" not in flat
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if not url.startswith("/static/"):  # WhiteNoise's files are never htmx fragments
        assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url", ["/", f"/q/{SKY}", f"/q/{SKY}/sections/1", "/c/science", "/search?q=sky",
                                 "/about", "/q/how-fast-can-an-ostrich-run", "/no-such-page",
                                 "/support", "/login", "/register", "/support/mine"])
def test_pages_keep_to_the_policy_no_inline_script_style_or_handlers(demo, client, auth, url):
    make_campaign(demo)
    if url not in ("/login", "/register"):  # logged in, the widget and header show more
        auth.register()
        auth.login()
    page = text_of(get(client, url))
    for script in tags(page, "script"):
        assert "src" in script or script.get("type") == "application/ld+json", f"inline script {script}"
    assert "<style" not in page and not re.search(r"\sstyle=", page)
    assert not re.search(r"\s(on\w+|hx-on[\w:-]*)=", page), "an inline event handler would be blocked"
    config = json.loads([t["content"] for t in tags(page, "meta") if t.get("name") == "htmx-config"][0])
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False


def test_the_scripts_and_styles_a_page_names_are_served(client):
    page = text_of(get(client, "/"))
    assets = [t["src"] for t in tags(page, "script") if "src" in t]
    assets += [t["href"] for t in tags(page, "link") if t.get("rel") == "stylesheet"]
    assert len(assets) == 2  # one stylesheet and one script, each a bundle (frontend/build.mjs)
    for url in assets:
        response = get(client, url)
        assert response.status_code == 200 and response.data, url


# --- error pages ---------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/q/no-such-question", "/no-such-page", "/c/no-such-category"])
@pytest.mark.parametrize("fragment", [False, True])
def test_a_404_offers_search_and_a_way_home(demo, client, url, fragment):
    response = get(client, url, fragment)
    page = text_of(response)
    assert response.status_code == 404
    assert ("<html" in page) != fragment
    error = part(page, '<section class="error-page"')
    searches = [t for t in tags(error, "input") if t.get("type") == "search"]
    assert len(searches) == 1 and searches[0]["name"] == "q"
    assert [t for t in tags(error, "label") if t.get("for") == searches[0]["id"]], "the search box needs a label"
    assert [t["action"] for t in tags(error, "form")] == ["/search"]
    assert ("/", "Go to the home page") in links(error)


@pytest.mark.parametrize("fragment", [False, True])
def test_an_unexpected_error_is_a_plain_500_page(app, client, fragment):
    def boom():
        raise RuntimeError("secret detail from deep inside")

    app.add_url_rule("/boom", "boom", boom)
    response = get(client, "/boom", fragment)
    page = text_of(response)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and ("<html" in page) != fragment
    assert "secret detail" not in page and "Traceback" not in page
    assert "HX-Request" in response.headers["Vary"]


# --- odd input never breaks a page ---------------------------------------------------------

ODD_URLS = [
    "/q/%00",
    "/c/%00",
    "/q/a%00b/sections/1",
    "/c/..%2f",
    "/q/..%2f..%2fetc%2fpasswd",
    "/q/" + "a" * 5000,
    "/c/" + "b" * 5000,
    "/q/" + "a" * 5000 + "/sections/1",
    "/q/%ff%fe",
    "/q/%F0%9F%98%80",
    "/q/%E2%80%AE",
    "/q/%20%20",
    f"/q/{SKY}%0d%0aSet-Cookie:%20x=1",
    f"/q/{SKY}/sections/%00",
    f"/q/{SKY}/sections/1.5",
    "/c/science?page=%00",
    "/c/science?page=99999999999999999999999",
    "/c/science?page=1&page=x",
    "/search?q=%ff",
    "/search?q=%00",
    "/search?q[]=x",
    "/about?x=%00",
]


@pytest.mark.parametrize("url", ODD_URLS)
@pytest.mark.parametrize("fragment", [False, True])
def test_odd_input_never_gives_a_server_error(demo, client, url, fragment):
    response = get(client, url, fragment)
    assert_no_server_error(response)
    assert ("<html" in text_of(response)) != fragment
    assert "Set-Cookie" not in response.headers


# --- the icon, the 404 page's words, "Learn more" (issue 12) ---------------------------------

def test_the_icon_is_linked_from_every_page_and_favicon_ico_finds_it(client):
    link = re.search(r'<link rel="icon" href="(/static/build/favicon\.[0-9a-f]{12}\.svg)" type="image/svg\+xml">',
                     client.get("/about").get_data(as_text=True))
    icon = client.get(link.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.mimetype == "image/vnd.microsoft.icon" and ico.data[:4] == b"\x00\x00\x01\x00"


def test_a_missing_page_speaks_plumbs_words_not_the_servers(client):
    page = client.get("/no/such/page")
    text = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "There is nothing at this address." in text
    assert "requested URL was not found" not in text


def test_learn_more_says_what_it_leads_to(demo, client):
    page = client.get("/q/why-is-the-sky-blue").get_data(as_text=True)
    assert 'Learn more<span class="visually-hidden"> about how we check answers</span></a>' in page


def test_a_404_has_two_searches_each_with_a_name_of_its_own(demo, client):
    page = text_of(client.get("/no-such-page"))
    names = [t.get("aria-label") for t in tags(page, "form") if t.get("role") == "search"]
    assert len(names) == 2 and all(names) and len(set(names)) == 2, names
    # The same search box as the header's, so it looks the same.
    assert '<div class="site-search">' in part(page, '<section class="error-page"')
