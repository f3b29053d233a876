"""Plumb's progress on other sites: /embed/support (a page for another site's iframe) and
/support/progress.json (CORS), their headers (who may frame, no cookies, public caching,
ETag/304), their figures before and after pledges, without a campaign, when the database
is busy; the EMBED_FRAME_ANCESTORS setting; the snippet on /support."""
from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy.exc import OperationalError

from tests.apps import drop, make_app
from tests.pages import HTMX, bar, links, tags, text_of
from tests.pledging import counters, make_campaign, post_pledge
from tests.readers import sign_in
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.site.headers import CSP
from webapp.support import campaigns
from webapp.support.models import Campaign

EMBED, JSON = "/embed/support", "/support/progress.json"
FIELDS = {"title", "state", "goal_kind", "goal_supporters", "goal_cents", "supporters", "raised_cents", "currency",
          "percent", "starts_at", "ends_at", "url"}


def csp(response) -> dict[str, list[str]]:
    directives = (d.split() for d in response.headers["Content-Security-Policy"].split(";") if d.strip())
    return {d[0]: d[1:] for d in directives}


def figures_of(text: str) -> dict[str, str]:
    """What the embed shows, as words."""
    def said(css_class: str) -> str:
        found = re.search(rf'class="{css_class}"[^>]*>(.*?)</(?:span|p|h1)>', text, re.S)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""
    return {"headline": said("embed-headline"), "supporters": said("embed-supporters"), "raised": said("embed-raised"),
            "count": said("support-count"), "goal": said("support-goal")}


def another_app(tmp_path, **settings):
    """An app of the test's own, for settings the shared fixture does not have."""
    folder = tmp_path / "other"
    folder.mkdir(exist_ok=True)
    return make_app(folder, **settings)


def with_setting(tmp_path, value: str):
    return another_app(tmp_path, EMBED_FRAME_ANCESTORS=value)


@pytest.fixture
def pledged(app, client, campaign):
    """A running campaign with one reader's $10 pledge; the client is that reader."""
    sign_in(app, client)
    assert post_pledge(client, amount="1000").status_code == 200
    return campaign


# --- what the frame shows ------------------------------------------------------------------------

def test_the_embed_is_a_small_page_with_the_goal_the_figures_the_bar_and_a_link_out(client, campaign):
    response = client.get(EMBED)
    text = text_of(response)
    assert response.status_code == 200 and text.startswith("<!doctype html>") and "<html" in text
    assert figures_of(text) == {"headline": "Keep Plumb independent", "supporters": "0 supporters",
                                "raised": "$0 pledged", "count": "0 of 1,000 supporters · 0%",
                                "goal": "Goal: 1,000 supporters Time left: 30 days"}
    progress = bar(text)
    assert (progress["value"], progress["max"], progress["aria-labelledby"]) == ("0", "1000", "embed-count")
    assert progress["aria-valuetext"] == "0 of 1,000 supporters, 0%"
    # Out to the campaign page in a new tab, and nothing to fill in inside the frame.
    link = [a for a in tags(text, "a") if a["href"] == "/support"]
    assert len(link) == 1 and link[0]["target"] == "_blank" and link[0]["rel"] == "noopener"
    assert ("/support", "Support Plumb (opens in a new tab)") in links(text)
    assert "<form" not in text and "csrf" not in text.lower()
    # None of the site's own page around it: no navigation, no widget, no reader's name.
    assert "site-header" not in text and "support-widget" not in text and 'name="robots" content="noindex"' in text


def test_the_embed_keeps_to_the_sites_script_policy_and_polls_like_the_widget(app, client, campaign):
    text = text_of(client.get(EMBED))
    scripts = tags(text, "script")
    assert scripts and all("src" in s for s in scripts)
    assert "<style" not in text and not re.search(r"\s(style|on\w+|hx-on[\w:-]*)=", text)
    config = json.loads([t["content"] for t in tags(text, "meta") if t.get("name") == "htmx-config"][0])
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    root = tags(text, "div")[0]
    assert root["id"] == "embed-figures" and root["hx-get"] == EMBED
    assert root["hx-trigger"] == f"every {app.config['SUPPORT_POLL_SECONDS']}s"
    assert (root["hx-target"], root["hx-swap"]) == ("this", "outerHTML")
    for asset in [s["src"] for s in scripts] + [t["href"] for t in tags(text, "link") if t.get("rel") == "stylesheet"]:
        assert client.get(asset).status_code == 200, asset


def test_the_embed_as_an_htmx_fragment_is_the_figures_alone(client, campaign):
    response = client.get(EMBED, headers=HTMX)
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text and "Support Plumb" not in text
    assert text.strip().startswith('<div id="embed-figures"') and text.strip().endswith("</div>")
    assert figures_of(text)["count"] == "0 of 1,000 supporters · 0%"
    assert "HX-Request" in response.headers["Vary"]


def test_after_pledges_the_embed_and_the_json_show_what_the_campaign_counts(app, client, pledged):
    other = app.test_client()
    sign_in(app, other, email="other@example.org", name="Oth Er")
    assert post_pledge(other, amount="custom", custom_amount="25.50", frequency="monthly").status_code == 200
    assert counters(app) == (2, 3550)
    for text in (text_of(client.get(EMBED)), text_of(app.test_client().get(EMBED, headers=HTMX))):
        shown = figures_of(text)
        assert (shown["supporters"], shown["raised"], shown["count"]) == (
            "2 supporters", "$35.50 pledged", "2 of 1,000 supporters · 0%")
        assert bar(text)["value"] == "2"
    body = app.test_client().get(JSON).get_json()
    assert (body["supporters"], body["raised_cents"], body["percent"]) == (2, 3550, 0)


def test_an_amount_goal_counts_its_offset_in_money_and_shows_the_supporters_too(app, client):
    make_campaign(app, goal_kind="amount", goal=50_000, currency="EUR", goal_offset=12_000)
    sign_in(app, client)
    post_pledge(client, amount="2500")
    shown = figures_of(text_of(client.get(EMBED)))
    assert (shown["supporters"], shown["raised"], shown["count"]) == ("1 supporter", "€145 pledged", "€145 of €500 · 29%")
    body = client.get(JSON).get_json()
    assert (body["goal_kind"], body["goal_cents"], body["goal_supporters"]) == ("amount", 50_000, None)
    assert (body["raised_cents"], body["supporters"], body["currency"], body["percent"]) == (14_500, 1, "EUR", 29)


@pytest.mark.parametrize("fields, says", [
    (dict(ended_at=utcnow() - dt.timedelta(days=1)), "This campaign has ended. Thank you!"),
    (dict(starts_at=utcnow() + dt.timedelta(days=3)), "Starts on "),
    (dict(goal=1, goal_offset=1), "Goal reached — thank you!"),
])
def test_the_embed_says_the_campaigns_state(app, client, fields, says):
    make_campaign(app, **fields)
    assert says in text_of(client.get(EMBED))


def test_without_a_campaign_the_frame_says_so_and_the_json_is_a_404(client):
    page = client.get(EMBED)
    assert page.status_code == 200 and "Plumb has no supporter campaign running right now." in text_of(page)
    assert ("/support", "Support Plumb (opens in a new tab)") in links(text_of(page))
    assert 'hx-trigger="every' in text_of(page)  # it comes alive when a campaign starts
    response = client.get(JSON)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json() == {"error": "There is no supporter campaign right now.",
                                   "url": "https://plumb.example/support"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # a site's script may read why
    assert "Set-Cookie" not in response.headers


# --- who may frame it ------------------------------------------------------------------------------

def test_by_default_only_plumbs_own_pages_may_frame_the_embed(client, campaign):
    response = client.get(EMBED)
    policy = csp(response)
    assert policy["frame-ancestors"] == ["'self'"]
    assert "X-Frame-Options" not in response.headers  # it would override frame-ancestors in old browsers
    # Everything else in the policy is the site's own.
    assert {k: v for k, v in policy.items() if k != "frame-ancestors"} == {
        k: v for k, v in ((d.split()[0], d.split()[1:]) for d in CSP.split(";")) if k != "frame-ancestors"}
    assert csp(client.get(EMBED, headers=HTMX))["frame-ancestors"] == ["'self'"]


@pytest.mark.parametrize("url", ["/support", "/about", "/support/progress", JSON, "/support/widget", "/no-such-page"])
def test_every_other_response_still_refuses_every_frame(tmp_path, url):
    app = with_setting(tmp_path, "https://news.example.org")
    try:
        make_campaign(app)
        response = app.test_client().get(url, headers=HTMX if url.startswith("/support/") else {})
        assert csp(response)["frame-ancestors"] == ["'none'"], url
    finally:
        drop(app)


def test_the_sites_the_setting_names_may_frame_the_embed(tmp_path):
    app = with_setting(tmp_path, " https://News.Example.org/, http://localhost:8001  https://news.example.org\n"
                                 "https://blog.example.net:8443")
    try:
        response = app.test_client().get(EMBED)
        assert csp(response)["frame-ancestors"] == [
            "'self'", "https://news.example.org", "http://localhost:8001", "https://blog.example.net:8443"]
        assert "X-Frame-Options" not in response.headers
    finally:
        drop(app)


def test_a_star_lets_any_site_frame_it_and_the_support_page_stops_asking_to_be_told(tmp_path):
    app = with_setting(tmp_path, "*")
    try:
        make_campaign(app)
        client = app.test_client()
        assert csp(client.get(EMBED))["frame-ancestors"] == ["*"]
        assert "ask us to add your site" not in text_of(client.get("/support"))
    finally:
        drop(app)


@pytest.mark.parametrize("value, normalised", [
    ("", []),
    ("  ,  ", []),
    ("https://news.example.org", ["https://news.example.org"]),
    ("HTTPS://News.Example.ORG/", ["https://news.example.org"]),
    ("https://a.example https://b.example,https://a.example", ["https://a.example", "https://b.example"]),
    ("https://a.example:8443", ["https://a.example:8443"]),
    ("https://203.0.113.9", ["https://203.0.113.9"]),
    ("http://localhost:5000 http://127.0.0.1:8000 http://[::1]:9000",
     ["http://localhost:5000", "http://127.0.0.1:8000", "http://[::1]:9000"]),
    ("https://xn--bcher-kva.example", ["https://xn--bcher-kva.example"]),
    ("*", ["*"]),
])
def test_the_setting_is_read_as_origins(value, normalised):
    from webapp.support import embedding  # here, so the other tests run (and fail) without the feature

    assert embedding.origins(value) == normalised


@pytest.mark.parametrize("value, why", [
    ("news.example.org", "write it as https://host"),
    ("//news.example.org", "write it as https://host"),
    ("ftp://news.example.org", "write it as https://host"),
    ("'self'", "write it as https://host"),
    ("'none'", "write it as https://host"),
    ("http://news.example.org", "only https:// sites"),
    ("https://*.example.org", "wildcards are not taken"),
    ("* https://news.example.org", "stands alone"),
    ("https://news.example.org/embed", "no path"),
    ("https://news.example.org?x=1", "no path, query"),
    ("https://news.example.org#top", "no path, query or fragment"),
    ("https://someone@news.example.org", "no user name"),
    ("https://news.example.org:99999", "port"),
    ("https://news.example.org:abc", "port"),
    ("https://news_example.org", "not a host name"),
    ("https://bücher.example", "xn--"),
    ("https://news.example.org;script-src", "not a host name"),
])
def test_anything_else_stops_the_app_at_start_up_naming_the_entry(tmp_path, value, why):
    from webapp.support import embedding

    with pytest.raises(embedding.NotAnOrigin, match=re.escape(why)):
        embedding.origins(value)
    with pytest.raises(RuntimeError, match="EMBED_FRAME_ANCESTORS"):
        with_setting(tmp_path, value)


# --- no cookies, public caching ------------------------------------------------------------------

def logged_in_with_every_cookie(app, client) -> None:
    """The client is a logged-in reader (the one who pledged) with a remember cookie and "Not now" too."""
    client.set_cookie("remember_token", "1|not-a-real-token")
    client.set_cookie("plumb_support", "small")


@pytest.mark.parametrize("url, headers", [(EMBED, {}), (EMBED, HTMX), (JSON, {})])
def test_no_cookie_is_set_or_read_even_when_a_logged_in_reader_sends_theirs(app, client, pledged, url, headers):
    anonymous = app.test_client().get(url, headers=headers)
    logged_in_with_every_cookie(app, client)
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Set-Cookie" not in anonymous.headers
    # Nothing was drawn from the session: webapp/site/headers.py would have made it private.
    assert response.headers["Cache-Control"] == "public, max-age=15"
    assert response.data == anonymous.data and response.headers["ETag"] == anonymous.headers["ETag"]


def test_the_preflight_sets_no_cookie_either(app, client, pledged):
    logged_in_with_every_cookie(app, client)
    response = client.options(JSON, headers={"Origin": "https://news.example.org"})
    assert response.status_code == 204 and "Set-Cookie" not in response.headers


def test_the_cache_lasts_one_poll(tmp_path):
    app = another_app(tmp_path, SUPPORT_POLL_SECONDS=4)
    try:
        make_campaign(app)
        for url in (EMBED, JSON):
            assert app.test_client().get(url).headers["Cache-Control"] == "public, max-age=4"
        assert 'hx-trigger="every 4s"' in text_of(app.test_client().get(EMBED))
    finally:
        drop(app)


@pytest.mark.parametrize("url, headers", [(EMBED, {}), (EMBED, HTMX), (JSON, {})])
def test_an_unchanged_count_is_a_304_without_a_body_and_a_pledge_changes_the_etag(app, client, campaign, url, headers):
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=15"
    sign_in(app, client)
    post_pledge(client)
    moved = app.test_client().get(url, headers={**headers, "If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag and moved.data


def test_a_compressed_page_is_a_304_too(client, campaign):
    first = client.get(EMBED, headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br" and first.headers["ETag"].endswith(':br"')
    again = client.get(EMBED, headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]


def test_the_page_the_fragment_and_the_json_have_etags_of_their_own(client, campaign):
    etags = {client.get(EMBED).headers["ETag"], client.get(EMBED, headers=HTMX).headers["ETag"],
             client.get(JSON).headers["ETag"]}
    assert len(etags) == 3


# --- progress.json -----------------------------------------------------------------------------------

def test_the_json_gives_the_public_figures_to_any_site(app, client, pledged):
    response = client.get(JSON, headers={"Origin": "https://news.example.org"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    body = response.get_json()
    assert set(body) == FIELDS
    with app.app_context():
        deadline = db.session.get(Campaign, pledged).deadline
    assert body == {"title": "Keep Plumb independent", "state": "running", "goal_kind": "supporters",
                    "goal_supporters": 1000, "goal_cents": None, "supporters": 1, "raised_cents": 1000,
                    "currency": "USD", "percent": 0, "starts_at": None,
                    "ends_at": deadline.replace(microsecond=0).isoformat() + "Z", "url": "https://plumb.example/support"}


def test_the_jsons_address_comes_from_site_url_never_from_the_host_asked_for(client, campaign):
    body = client.get(JSON, headers={"Host": "evil.example"}).get_json()
    assert body["url"] == "https://plumb.example/support"


def test_an_ended_campaign_ends_when_it_was_ended(app, client):
    ended = utcnow().replace(microsecond=0) - dt.timedelta(hours=5)
    make_campaign(app, ended_at=ended)
    body = client.get(JSON).get_json()
    assert body["state"] == "ended" and body["ends_at"] == ended.isoformat() + "Z"


def test_a_preflight_is_answered_for_any_origin_and_header_without_credentials(client, campaign):
    response = client.options(JSON, headers={"Origin": "https://news.example.org",
                                              "Access-Control-Request-Method": "GET",
                                              "Access-Control-Request-Headers": "if-none-match, x-requested-with"})
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "*"
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_the_json_takes_no_writes(client, campaign):
    assert client.post(JSON).status_code == 405


# --- a database that cannot answer --------------------------------------------------------------------

def failing(*args, **kwargs):
    raise OperationalError("SELECT", {}, Exception("database is locked"))


def test_a_busy_database_is_a_503_in_the_frames_size_and_in_json(monkeypatch, client, campaign):
    monkeypatch.setattr(campaigns, "shown", failing)
    page = client.get(EMBED)
    assert page.status_code == 503 and page.headers["Retry-After"]
    assert "figures are not available just now" in text_of(page) and "site-header" not in text_of(page)
    assert csp(page)["frame-ancestors"] == ["'self'"] and page.headers["Cache-Control"] == "no-store"
    assert client.get(EMBED, headers=HTMX).status_code == 503  # a poll: htmx keeps what it shows
    response = client.get(JSON)
    assert response.status_code == 503 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*" and response.headers["Cache-Control"] == "no-store"


# --- the snippet on /support ----------------------------------------------------------------------------

def test_the_support_page_offers_the_iframe_to_copy_and_the_json(client, campaign):
    page = text_of(client.get("/support"))
    section = page[page.index('<section id="on-your-site"'):]
    section = section[:section.index("</section>")]
    code = re.search(r"<pre><code>(.*?)</code></pre>", section, re.S).group(1)
    assert "<iframe" not in code  # shown as text, not drawn
    frame = tags(html.unescape(code), "iframe")
    assert frame == [{"src": "https://plumb.example/embed/support", "title": "Plumb’s supporter campaign: goal and progress",
                      "width": "360", "height": "240", "loading": "lazy"}]
    assert ("https://plumb.example/support/progress.json", "https://plumb.example/support/progress.json") in links(section)
    assert "ask us to add your site" in section  # the default: other sites are not allowed yet


def test_without_a_campaign_there_is_nothing_to_embed_on_the_support_page(client):
    assert 'id="on-your-site"' not in text_of(client.get("/support"))
