"""Running in public: hosts, absolute URLs, proxies and caching of personal pages (issue 10)."""
from __future__ import annotations

import json
import re
import socket
import sqlite3
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
import pytest
from flask import request
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from webapp import create_app
from tests.apps import drop, make_app
from tests.pages import HTMX, csrf_token, form_token, text_of
from tests.pledging import counters, form_of, make_campaign, pledge_rows, post_pledge
from tests.readers import PASSWORD, make_user, sign_in
from tests.servers import Reader, gunicorn
from webapp.extensions import db
from webapp.graph.models import AnswerRequest

SKY = "why-is-the-sky-blue"
SITE = "https://plumb.example"  # make_app's SITE_URL (tests/apps.py)


@pytest.fixture
def production(app):
    """The test app as production runs it: SITE_URL's host is the only one answered."""
    app.config.update(PLUMB_ENV="production", TRUSTED_HOSTS=["plumb.example"])
    return app


def absolute_urls(page: str) -> list[str]:
    """The canonical link, og:url and the JSON-LD's URLs of an answer page."""
    urls = re.findall(r'<link rel="canonical" href="([^"]+)"', page)
    urls += re.findall(r'<meta property="og:url" content="([^"]+)"', page)
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S):
        data = json.loads(block)
        urls += [data["url"], data["mainEntityOfPage"], data["publisher"]["url"]]
    return urls


# --- finding 2: the Host header ------------------------------------------------------------------

def test_production_answers_an_unknown_host_with_400_and_does_not_echo_it(demo, production):
    response = production.test_client().get(f"/q/{SKY}", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert b"evil.example" not in response.data


def test_production_absolute_urls_come_from_site_url_whatever_host_was_asked(demo, production):
    production.config["TRUSTED_HOSTS"] = ["plumb.example", "plumb-origin.internal"]
    page = production.test_client().get(f"/q/{SKY}", headers={"Host": "plumb-origin.internal"}).get_data(as_text=True)
    urls = absolute_urls(page)
    assert len(urls) == 5, urls
    assert all(url.startswith(SITE + "/") for url in urls), urls


def test_production_refuses_to_start_without_site_url(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUMB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(RuntimeError, match="SITE_URL must be set"):
        make_app(tmp_path, SITE_URL="")


def test_production_trusts_site_urls_host_when_no_hosts_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUMB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    app = make_app(tmp_path, SITE_URL="https://answers.example.org")
    try:
        assert app.config["TRUSTED_HOSTS"] == ["answers.example.org"]
        client = app.test_client()
        assert client.get("/healthz", headers={"Host": "answers.example.org"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 400
    finally:
        drop(app)


def test_behind_a_proxy_the_forwarded_address_and_host_are_used_and_checked(tmp_path):
    app = make_app(tmp_path, PLUMB_ENV="production", PROXY_COUNT=1, TRUSTED_HOSTS=["plumb.example"])
    seen = {}

    @app.get("/_who")
    def who():
        seen.update(address=request.remote_addr, scheme=request.scheme, host=request.host)
        return "ok"

    try:
        client = app.test_client()
        forwarded = {"Host": "internal:8000", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        assert client.get("/_who", headers={**forwarded, "X-Forwarded-Host": "plumb.example"}).status_code == 200
        assert seen == {"address": "203.0.113.7", "scheme": "https", "host": "plumb.example"}
        assert client.get("/_who", headers={**forwarded, "X-Forwarded-Host": "evil.example"}).status_code == 400
    finally:
        drop(app)


# --- finding 4: personal pages are never cached -------------------------------------------------

@pytest.mark.parametrize("url", ["/account", "/support/mine", "/support"])
@pytest.mark.parametrize("htmx", [False, True])
def test_personal_pages_are_private_and_not_stored(app, client, url, htmx):
    make_campaign(app)
    sign_in(app, client)
    response = client.get(url, headers=HTMX if htmx else {})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", ["/", f"/q/{SKY}", "/search?q=sky", "/login", "/register", "/about"])
def test_pages_carrying_a_csrf_token_or_the_readers_path_are_private(demo, client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_what_is_the_same_for_everyone_stays_cacheable(app, client):
    make_campaign(app)
    assert "private" not in client.get("/static/css/plumb.css").headers.get("Cache-Control", "")
    progress = client.get("/support/progress", headers=HTMX)
    assert progress.headers["Cache-Control"] == "public, no-cache"
    assert "no-store" not in client.get("/healthz").headers.get("Cache-Control", "")


# --- finding 11: chunked bodies ---------------------------------------------------------------

def chunked_post(url: str, path: str, size: int, headers: dict[str, str]) -> int:
    """POST `size` bytes of form data in 64 KiB chunks over a raw socket; the status."""
    address = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {address.netloc}", "Transfer-Encoding: chunked",
             "Content-Type: application/x-www-form-urlencoded", *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunk, sent = b"b=" + b"x" * (2**16 - 2), 0
        try:
            while sent < size:
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            connection.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered and closed without reading the rest
            pass
        status_line = connection.makefile("rb").readline()
    return int(status_line.split()[1])


def test_a_chunked_body_over_the_limit_is_refused_like_a_long_one(tmp_path):
    app = make_app(tmp_path)
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    with gunicorn(tmp_path, database, workers=1) as server:
        login_page = urllib.request.urlopen(server.url + "/login")
        cookie = login_page.headers["Set-Cookie"].split(";")[0]
        token = form_token(login_page.read().decode())
        browser = {"Cookie": cookie, "X-CSRFToken": token}
        assert chunked_post(server.url, "/login", 10 * 2**20, browser) == 413
        assert chunked_post(server.url, "/login", 2**16, browser) == 401  # read and answered as a (wrong) login
    drop(app)


# --- findings 8 and 10: a database that cannot write now ----------------------------------------

@contextmanager
def write_lock_held(app, campaign_id: int):
    """Another process holding what a pledge must write: SQLite's write lock, or on
    PostgreSQL the campaign's row."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        other.execute("select id from campaign where id = %s for update", (campaign_id,))
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.mark.parametrize("htmx", [True, False])
def test_a_pledge_that_cannot_get_the_lock_is_a_503_and_the_same_form_counts_once_later(tmp_path, htmx):
    app = make_app(tmp_path, DATABASE_LOCK_TIMEOUT_MS=200)
    try:
        campaign_id = make_campaign(app)
        client = app.test_client()
        sign_in(app, client)
        form = form_of(client)
        with write_lock_held(app, campaign_id):
            busy = post_pledge(client, form=form, htmx=htmx)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"].isdigit()
        assert "try again" in text_of(busy) and "safe" in text_of(busy)
        assert f'value="{form["key"]}"' in text_of(busy)  # the same form, the same key, to send again
        assert counters(app) == (0, 0) and pledge_rows(app) == []
        again = post_pledge(client, form=form, htmx=htmx)
        assert again.status_code in (200, 303)
        assert post_pledge(client, form=form, htmx=htmx).status_code in (200, 303)  # and once more
        assert counters(app) == (1, 1000) and len(pledge_rows(app)) == 1
    finally:
        drop(app)


@pytest.mark.parametrize("htmx", [True, False])
def test_a_request_for_an_answer_that_cannot_be_written_is_a_503_and_changes_nothing(demo, client, htmx):
    if make_url(demo.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "sqlite":
        pytest.skip("on PostgreSQL nothing holds these rows; the pledge test covers its lock timeout")
    demo.config["DATABASE_LOCK_TIMEOUT_MS"] = 200  # read by new connections only: start afresh
    with demo.app_context():
        db.engine.dispose()
    unanswered = "/q/how-fast-can-an-ostrich-run"
    token = form_token(text_of(client.get(unanswered)))
    with write_lock_held(demo, 0):
        busy = client.post(f"{unanswered}/request", data={"csrf_token": token}, headers=HTMX if htmx else {})
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert "try again" in text_of(busy)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(AnswerRequest)) == 0
    assert client.post(f"{unanswered}/request", data={"csrf_token": token}).status_code in (200, 303)


# --- finding 14: forms posted from another site ------------------------------------------------

@pytest.mark.parametrize("claimed", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Referer": "https://evil.example/page"}])
def test_a_post_from_another_site_is_refused_even_with_a_good_token(app, client, claimed):
    make_user(app)
    form = {"email": "reader@example.org", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    refused = client.post("/login", data=form, headers=claimed)
    assert refused.status_code == 403
    assert "another site" in text_of(refused)
    assert client.get("/account").status_code == 302  # not logged in


@pytest.mark.parametrize("claimed", [{"Origin": "http://localhost"}, {"Referer": "http://localhost/login"},
                                     {"Origin": SITE}, {}])
def test_a_post_from_this_site_or_saying_nothing_goes_on_to_the_token(app, client, claimed):
    make_user(app)
    form = {"email": "reader@example.org", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    assert client.post("/login", data=form, headers=claimed).status_code == 303
    assert client.get("/account").status_code == 200


def test_health_answers_while_pledges_wait_for_a_held_write_lock(tmp_path):
    """gunicorn as configured (gunicorn.conf.py): pledges waiting for the lock hold their
    threads, not the whole worker, so /healthz still answers."""
    app = make_app(tmp_path)
    campaign_id = make_campaign(app)
    readers = [f"reader{n}@example.org" for n in range(2)]
    for email in readers:
        make_user(app, email=email)
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    with gunicorn(tmp_path, database, workers=1, DATABASE_LOCK_TIMEOUT_MS="20000") as server:
        browsers = [Reader(server.url, email) for email in readers]
        forms = []
        for browser in browsers:
            browser.log_in()
            widget = browser.request("/support/widget", headers={"HX-Request": "true"}).body
            key = re.search(r'name="key" value="([^"]+)"', widget).group(1)
            forms.append({"amount": "1000", "frequency": "once", "key": key, "csrf_token": browser.csrf})
        finished: list[str] = []
        with ThreadPoolExecutor(len(browsers)) as pool:
            with write_lock_held(app, campaign_id):
                waiting = [pool.submit(lambda b=b, f=f: (b.pledge(f), finished.append("pledge")))
                           for b, f in zip(browsers, forms, strict=True)]
                time.sleep(0.5)  # the pledges have reached the lock
                with urllib.request.urlopen(server.url + "/healthz", timeout=15) as health:
                    assert health.status == 200
                finished.append("health")
            # The lock is released: the waiting pledges go through.
        answers = [future.result()[0] for future in waiting]
        assert finished[0] == "health", finished  # it answered while the pledges still waited
        assert [answer.status for answer in answers] == [200, 200], server.output()[-3000:]
    assert counters(app) == (2, 2000)
    drop(app)


def test_with_the_rate_limit_storage_gone_reading_logging_in_and_pledging_go_on(tmp_path):
    """Redis down: limits open (and say so once in the log) rather than every limited request failing."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SITE_URL": SITE,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'plumb.db'}",
                      "SEARCH_INDEX_DIR": str(tmp_path / "search_index"), "SEARCH_REBUILD_IN_BACKGROUND": False,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})  # nothing listens on port 1
    with app.app_context():
        db.create_all()
    try:
        make_user(app)
        make_campaign(app)
        client = app.test_client()
        assert client.get("/").status_code == 200
        wrong = {"email": "reader@example.org", "password": "not it", "csrf_token": csrf_token(client, "/login")}
        assert client.post("/login", data=wrong).status_code == 401
        right = {**wrong, "password": PASSWORD}
        assert client.post("/login", data=right).status_code == 303
        assert post_pledge(client).status_code == 200
        assert counters(app) == (1, 1000)
    finally:
        drop(app)
