"""What an operator expects (issue 10): request log lines and ids, /metrics, and rate
limits that hold across gunicorn workers (finding 6)."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from http.cookiejar import CookieJar
from urllib.parse import urlencode, urlsplit

import pytest
import redis
from flask import abort
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from tests.apps import ROOT, make_app
from tests.pages import HTMX, form_token
from tests.pledging import make_campaign
from tests.readers import sign_in
from tests.servers import GUNICORN, gunicorn
from webapp.extensions import db
from webapp.operations import logs, metrics, ratelimits
from webapp.search.engine import engine_name

TEST_REDIS = "redis://127.0.0.1:6379/2"  # this file's own Redis database: flushed, nothing else


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def request_lines(text: str) -> list[dict]:
    return [line for line in json_lines(text) if line.get("logger") == "webapp.requests"]


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def value(text: str, name: str, **labels) -> float:
    """A sample's value in a scrape, 0 if it is not there (yet)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def label_values(text: str, name: str, label: str) -> set[str]:
    return {s.labels[label] for f in text_string_to_metric_families(text) for s in f.samples if s.name == name}


# --- logs and request ids ------------------------------------------------------------------------

@pytest.fixture
def json_app(tmp_path):
    app = make_app(tmp_path, LOG_FORMAT="json")
    yield app


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(client):
    first, second = client.get("/about"), client.get("/about")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert client.get("/about", headers={"X-Request-ID": "edge-7f3a-01"}).headers["X-Request-ID"] == "edge-7f3a-01"
    for odd in ("a" * 65, "id with spaces", "x\u00e9", "a;b"):
        assert client.get("/about", headers={"X-Request-ID": odd}).headers["X-Request-ID"] != odd
    assert "X-Request-ID" in client.get("/no/such/page").headers  # errors too


def test_one_json_line_per_request_without_query_values(json_app, capsys):
    client = json_app.test_client()
    capsys.readouterr()
    response = client.get("/search?q=my+embarrassing+rash&page=1&next=/account/secret", headers=HTMX)
    lines = request_lines(capsys.readouterr().err)
    assert len(lines) == 1
    line = lines[0]
    assert line["path"] == "/search?q&page&next"
    assert line["method"] == "GET" and line["status"] == response.status_code == 200
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["user_id"] is None and isinstance(line["duration_ms"], float)
    assert line["time"].startswith("20") and line["level"] == "INFO" and isinstance(line["pid"], int)
    assert "embarrassing" not in json.dumps(line) and "secret" not in json.dumps(line)


def test_the_log_line_names_the_user_by_number_only(json_app, capsys):
    client = json_app.test_client()
    user_id = sign_in(json_app, client)
    capsys.readouterr()
    statements = []
    with json_app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        health = client.get("/healthz")  # a response that never looks the user up...
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements and not [s for s in statements if "user_account" in s]  # ...is not made to for its log
    assert health.status_code == 200
    client.get("/account")
    lines = request_lines(capsys.readouterr().err)
    assert [line["user_id"] for line in lines] == [user_id, user_id]
    with client.session_transaction() as session:
        token = session["_user_id"].partition(":")[2]
    assert token not in json.dumps(lines)


def test_reading_the_user_number_does_not_mark_the_session_read(app):
    # A session marked read makes a response personal (Vary: Cookie, Cache-Control: private):
    # the log line must not change what the response says.
    with app.test_request_context("/"):
        from flask import session

        dict.__setitem__(session._get_current_object(), "_user_id", "7:token")
        marks = (session.accessed, getattr(session, "drawn_on", None))
        assert logs.user_id() == 7
        assert (session.accessed, getattr(session, "drawn_on", None)) == marks


def test_development_writes_a_readable_line(app, capsys):
    capsys.readouterr()
    response = app.test_client().get("/about?q=private")
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "webapp.requests" in line)
    assert f"[{response.headers['X-Request-ID']}]" in line and "GET /about?q 200 " in line and "user=-" in line
    assert "private" not in err


def test_the_500_page_shows_the_reference_that_the_error_log_line_carries(tmp_path, capsys):
    app = make_app(tmp_path, LOG_FORMAT="json")

    def broken():
        with app.app_context():  # as a search index rebuild does: a new `g`, the same request
            app.logger.warning("about to fail")
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", "broken", broken)
    capsys.readouterr()
    for headers in ({}, HTMX):
        response = app.test_client().get("/broken", headers=headers)
        assert response.status_code == 500
        reference = response.headers["X-Request-ID"]
        assert f"quote this reference: <code>{reference}</code>" in response.get_data(as_text=True)
        logged = json_lines(capsys.readouterr().err)
        error = next(line for line in logged if line["message"] == "unhandled error")
        assert error["request_id"] == reference and "RuntimeError: a bug" in error["exc_info"]
        assert next(line for line in logged if line["message"] == "about to fail")["request_id"] == reference
        assert [line["status"] for line in logged if line["logger"] == "webapp.requests"] == [500]
    assert "reference" not in app.test_client().get("/no/such/page").get_data(as_text=True)


def test_a_request_refused_before_our_hooks_run_is_still_logged(json_app, capsys):
    def refuse():  # as a body-size or origin check that puts its hook first does
        abort(413)

    json_app.before_request_funcs.setdefault(None, []).insert(0, refuse)
    client = json_app.test_client()
    capsys.readouterr()
    response = client.post("/support/pledge")
    assert response.status_code == 413 and "X-Request-ID" in response.headers
    [line] = request_lines(capsys.readouterr().err)
    assert line["status"] == 413 and line["request_id"] == response.headers["X-Request-ID"]
    assert line["duration_ms"] >= 0


def test_a_failure_to_log_or_count_never_breaks_a_request(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(logs.requests_log, "info", broken)
    monkeypatch.setattr(metrics, "observe", broken)
    response = client.get("/about")
    assert response.status_code == 200 and "X-Request-ID" in response.headers


# --- /metrics ----------------------------------------------------------------------------------------

def test_request_counts_and_latency_move_per_endpoint_not_per_path(demo):
    client = demo.test_client()
    before = scrape(client)
    client.get("/about")
    client.get("/about", headers=HTMX)
    client.get("/q/why-is-the-sky-blue")
    client.get("/no/such/page-8d1e")
    client.open("/about", method="BREW")
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("plumb_http_requests_total", endpoint="site.about", method="GET", status="2xx") == 2
    assert moved("plumb_http_requests_total", endpoint="answers.question", method="GET", status="2xx") == 1
    assert moved("plumb_http_requests_total", endpoint="unmatched", method="GET", status="4xx") == 1
    assert moved("plumb_http_requests_total", endpoint="unmatched", method="other", status="4xx") == 1
    assert moved("plumb_http_request_duration_seconds_count", endpoint="site.about", method="GET") == 2
    assert "page-8d1e" not in after and "why-is-the-sky-blue" not in after and "BREW" not in after
    assert label_values(after, "plumb_http_requests_total", "status") <= {"2xx", "3xx", "4xx", "5xx"}


def test_searches_are_counted_typed_or_submitted(demo):
    client = demo.test_client()
    before = scrape(client)
    client.get("/search?q=sky")
    client.get("/search?q=sky+blue&live=1", headers=HTMX)
    client.get("/search?q=")  # no search: the empty form
    after = scrape(client)
    for kind in ("submitted", "typed"):
        assert value(after, "plumb_searches_total", kind=kind) - value(before, "plumb_searches_total", kind=kind) == 1


def test_database_figures_are_read_at_scrape_time(demo):
    campaign = make_campaign(demo, slug="keep-going")
    client = demo.test_client()
    user_id = sign_in(demo, client)
    with demo.app_context():
        from webapp.support import pledges
        from webapp.support.choices import parse
        from webapp.support.models import Campaign

        choice = parse({"amount": "1000", "frequency": "once", "key": pledges.new_key()})
        assert not choice.errors, choice.errors
        pledges.pledge(db.engine, db.session.get(Campaign, campaign), user_id, choice)
    text = scrape(client)
    assert value(text, "plumb_database_up") == 1
    assert value(text, "plumb_pledges", status="active") == 1
    assert value(text, "plumb_pledges", status="cancelled") == 0
    assert value(text, "plumb_campaign_supporters", campaign="keep-going") == 1
    if engine_name(demo) == "whoosh":
        assert value(text, "plumb_search_outbox_rows") == 0
        assert 0 <= value(text, "plumb_search_index_age_seconds") < 7 * 24 * 3600


def test_scraping_answers_when_the_database_does_not(demo, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def unreachable(*args, **kwargs):
        raise OperationalError("select", {}, Exception("connection refused"))

    client = demo.test_client()
    client.get("/about")
    monkeypatch.setattr(metrics, "Session", unreachable)
    text = scrape(client)
    assert value(text, "plumb_database_up") == 0
    assert "plumb_pledges" not in text
    assert value(text, "plumb_http_requests_total", endpoint="site.about", method="GET", status="2xx") >= 1


@pytest.mark.parametrize("environ, headers", [
    ({"REMOTE_ADDR": "203.0.113.9"}, {}),
    ({"REMOTE_ADDR": "2001:db8::9"}, {}),
    # A proxy on this machine makes every reader look local: forwarded requests need the token.
    ({"REMOTE_ADDR": "127.0.0.1"}, {"X-Forwarded-For": "203.0.113.9"}),
    ({"REMOTE_ADDR": "127.0.0.1"}, {"Forwarded": "for=203.0.113.9"}),
])
def test_metrics_are_not_public(client, environ, headers):
    response = client.get("/metrics", environ_base=environ, headers=headers)
    assert response.status_code == 404
    assert b"plumb_" not in response.data


def test_metrics_answer_the_allowed_addresses_and_the_token(app, client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    outsider = {"REMOTE_ADDR": "203.0.113.9"}
    app.config["METRICS_ALLOW"] = "10.0.0.0/8, 203.0.113.9"
    assert client.get("/metrics", environ_base=outsider).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer on the list
    app.config.update(METRICS_ALLOW="127.0.0.1", METRICS_TOKEN="s3cret-scrape-token")
    assert client.get("/metrics", environ_base=outsider,
                      headers={"Authorization": "Bearer s3cret-scrape-token"}).status_code == 200
    assert client.get("/metrics", environ_base=outsider, headers={"X-Forwarded-For": "198.51.100.1",
                      "Authorization": "Bearer s3cret-scrape-token"}).status_code == 200
    for wrong in ("Bearer s3cret", "Bearer ", "Basic s3cret-scrape-token", "s3cret-scrape-token"):
        assert client.get("/metrics", environ_base=outsider, headers={"Authorization": wrong}).status_code == 404
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain") and response.headers["Cache-Control"] == "no-store"


def test_a_mistyped_allow_list_stops_the_start(tmp_path):
    with pytest.raises(RuntimeError, match="METRICS_ALLOW .*'localhost'"):
        make_app(tmp_path, METRICS_ALLOW="127.0.0.1, localhost")


# --- real gunicorn workers ----------------------------------------------------------------------------

def _address(server) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname, parts.port


def _answer(sock: socket.socket) -> int:
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    return response.status


@contextmanager
def held_by_one_worker(server, raw_request: bytes):
    """`raw_request` sent but for its last byte: a sync worker takes the connection and
    waits for the rest, so every other request meanwhile is answered by another worker.
    Yields a function that sends the last byte and returns the status."""
    sock = socket.create_connection(_address(server), timeout=20)
    try:
        sock.sendall(raw_request[:-1])
        yield lambda: (sock.sendall(raw_request[-1:]), _answer(sock))[1]
    finally:
        sock.close()


def _get(raw_path: str, host: str) -> bytes:
    return f"GET {raw_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


class Browser:
    """A logged-out reader's browser: a session cookie and the CSRF token that goes with it."""

    def __init__(self, server):
        self.server = server
        self.host = "%s:%d" % _address(server)
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{server.url}/login", timeout=10) as response:
            page = response.read().decode()
        self.token = form_token(page)
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

    def pledge_request(self) -> bytes:
        body = urlencode({"csrf_token": self.token, "amount": "1000", "frequency": "once"})
        return (f"POST /support/pledge HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n{body}").encode()

    def pledge(self) -> int:
        with socket.create_connection(_address(self.server), timeout=20) as sock:
            sock.sendall(self.pledge_request())
            return _answer(sock)


def _pids(server, path: str) -> set[int]:
    return {line["pid"] for line in request_lines(server.output()) if line["path"] == path}


def test_the_request_counter_adds_up_every_gunicorn_worker(demo, tmp_path):
    # THREADS=1: a held request holds its whole worker, so the others go to the other one.
    with gunicorn(tmp_path, demo.config["SQLALCHEMY_DATABASE_URI"], workers=2, LOG_FORMAT="json",
                  THREADS="1") as server:
        host = "%s:%d" % _address(server)
        with held_by_one_worker(server, _get("/about", host)) as finish:
            for _ in range(3):  # answered by the other worker
                with urllib.request.urlopen(f"{server.url}/about", timeout=10) as response:
                    assert response.status == 200
            assert finish() == 200  # answered by the held one
        assert len(_pids(server, "/about")) == 2, server.output()
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
            text = response.read().decode()
    assert value(text, "plumb_http_requests_total", endpoint="site.about", method="GET", status="2xx") == 4


def _limited_across_two_workers(demo, tmp_path, storage: str) -> tuple[list[int], int]:
    """Five pledge attempts through one worker, then a sixth through the other (a
    5-per-minute limit per address): the statuses of the five, and the sixth's."""
    with gunicorn(tmp_path, demo.config["SQLALCHEMY_DATABASE_URI"], workers=2, LOG_FORMAT="json",
                  PLEDGE_LIMIT="5 per minute", RATELIMIT_STORAGE_URI=storage, THREADS="1") as server:
        browser = Browser(server)
        with held_by_one_worker(server, browser.pledge_request()) as sixth:
            first_five = [browser.pledge() for _ in range(5)]
            last = sixth()
        assert len(_pids(server, "/support/pledge")) == 2, server.output()
    return first_five, last


def test_a_rate_limit_holds_across_gunicorn_workers_with_redis(demo, tmp_path):
    try:
        store = redis.Redis.from_url(TEST_REDIS, socket_connect_timeout=2)
        store.flushdb()  # db 2 only: this file's own
    except redis.RedisError:
        pytest.skip(f"no Redis answers at {TEST_REDIS}")
    first_five, sixth = _limited_across_two_workers(demo, tmp_path, TEST_REDIS)
    assert 429 not in first_five, first_five
    assert sixth == 429
    store.flushdb()


def test_memory_storage_counts_per_worker_which_is_why_production_refuses_it(demo, tmp_path):
    """The control for the test above: the same attempts, counted in each worker's memory,
    let the sixth through (so that test's workers really were two)."""
    first_five, sixth = _limited_across_two_workers(demo, tmp_path, "memory://")
    assert 429 not in first_five and sixth != 429


def _gunicorn_start(tmp_path, workers: int, **settings) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLUMB_ENV": "production", "SECRET_KEY": "x" * 40, "SITE_URL": "https://plumb.example",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'plumb.db'}", "SEARCH_INDEX_DIR": str(tmp_path / "index"),
           **settings}
    for name in ("REDIS_URL", "RATELIMIT_STORAGE_URI"):
        if name not in settings:
            env.pop(name, None)
    return subprocess.run([str(GUNICORN), "--workers", str(workers), "--bind", "127.0.0.1:0", "webapp:create_app()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("settings, says", [
    ({}, "rate limits would be counted in each worker's memory"),
    ({"REDIS_URL": "redis://:hunter2@127.0.0.1:1/0"}, "redis://:***@127.0.0.1:1/0, which does not answer"),
])
def test_production_gunicorn_will_not_start_without_shared_rate_limits(tmp_path, settings, says):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the venv")
    result = _gunicorn_start(tmp_path, 2, **settings)
    assert result.returncode != 0
    assert says in result.stderr and "Plumb will not start" in result.stderr
    assert "hunter2" not in result.stderr


def test_gunicorn_will_not_start_without_the_static_build(tmp_path):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the venv")
    result = _gunicorn_start(tmp_path, 1, STATIC_MANIFEST=str(tmp_path / "no-build" / "manifest.json"))
    assert result.returncode != 0
    assert "Plumb will not start" in result.stderr and "make setup" in result.stderr


def test_the_start_check_accepts_shared_storage_or_one_worker():
    production = {"PLUMB_ENV": "production", "RATELIMIT_STORAGE_URI": "memory://"}
    assert ratelimits.problem(production, 1) is None
    assert ratelimits.problem({**production, "PLUMB_ENV": "development"}, 4) is None
    assert "memory" in ratelimits.problem(production, 2)


def test_production_without_gunicorn_warns_once_about_per_process_limits(tmp_path, caplog):
    app = make_app(tmp_path, PLUMB_ENV="production", TRUSTED_HOSTS=["localhost"], RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    client.get("/healthz")
    client.get("/healthz")
    warnings = [r for r in caplog.records if "counted in this process's memory" in r.getMessage()]
    assert len(warnings) == 1


def test_make_serve_says_what_to_do_when_no_redis_answers():
    failure = ratelimits.ensure_redis("redis://redis.invalid:6379/0", wait_seconds=0)
    assert "apt-get install redis-server" in failure and "REDIS_URL" in failure


def test_a_web_worker_loads_no_library_only_commands_or_rare_pages_need(tmp_path):
    """scipy (PageRank, `flask graph rank`), zxcvbn (setting a password) and faiss (search
    by meaning, when on) cost a worker 13, 12 and 23 MB at start-up (issue 18: a worker's
    memory at 1,000,000 questions); they load when first used. Flask-Migrate with Alembic
    (11 MB) loads with the command line only, and networkx (11 MB, once the explorer's
    walk) not at all."""
    probe = ("import sys; from webapp import create_app; app = create_app(); "
             "client = app.test_client(); assert client.get('/healthz').status_code == 200; "
             "print(' '.join(m for m in ('scipy', 'zxcvbn', 'faiss', 'alembic', 'networkx') if m in sys.modules))")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}", "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
           "SEARCH_MEANING": "0"}
    loaded = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True,
                            cwd=ROOT)
    assert loaded.stdout.split() == []
