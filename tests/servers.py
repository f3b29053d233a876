"""Real servers for tests: gunicorn serving the app on a free port of this machine, and
a reader's browser (its own cookie jar) talking to one."""
from __future__ import annotations

import ctypes
import http.cookiejar
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.apps import DEMO, ROOT, drop, make_app
from tests.pages import form_token
from tests.readers import PASSWORD

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HIGH = "100000 per minute"  # limits no test crowd reaches


@contextmanager
def in_a_thread(app):
    """Any WSGI app served on a free port of this machine from a thread; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if pytest itself dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Server:
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(folder: Path, database_url: str, workers: int = 3, **settings: str):
    """gunicorn serving `webapp:create_app()` on a free port, terminated on the way out;
    `settings` are more environment variables (as an operator would set them)."""
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed in the venv ({GUNICORN})")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # bound here: no race for the port
    listener.bind(("127.0.0.1", 0))
    listener.set_inheritable(True)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {**os.environ, "SECRET_KEY": "concurrency-test-secret", "DATABASE_URL": database_url,
           "SEARCH_INDEX_DIR": str(folder / "search_index"), "PLUMB_ENV": "development",
           "PLEDGE_LIMIT": HIGH, "LOGIN_LIMIT_ADDRESS": HIGH, "LOGIN_LIMIT_ACCOUNT_ADDRESS": HIGH,
           "REGISTER_LIMIT_ADDRESS": HIGH, **settings}
    env.pop("REDIS_URL", None)
    server = Server(url, folder / "gunicorn.log")
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", str(workers), "--bind", f"fd://{listener.fileno()}",
             "--graceful-timeout", "5", "webapp:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(listener.fileno(),),
            preexec_fn=_die_with_parent)
    listener.close()
    try:
        wait_healthy(server.url, process, server.output)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(url: str, process: subprocess.Popen, output: Callable[[], str], seconds: float = 30) -> None:
    """Until gunicorn at `url` answers /healthz; AssertionError with its `output()` if it
    exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{output()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer /healthz within {seconds} s:\n{output()}")


# --- a reader's browser, talking to a real server ------------------------------------------

@dataclass
class Answer:
    status: int
    body: str


class Reader:
    """One reader's browser: a cookie jar shared by all of its requests."""

    def __init__(self, base: str, email: str):
        self.base, self.email = base, email
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def request(self, path: str, data: dict | None = None, headers: dict | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return Answer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode("utf-8", "replace"))

    def log_in(self) -> None:
        form = self.request("/login")
        token = form_token(form.body)
        self.request("/login", {"email": self.email, "password": PASSWORD, "csrf_token": token})
        account = self.request("/account")  # a reader who is not logged in is sent to /login
        assert account.status == 200 and "Change password" in account.body, (self.email, account.status)
        self.csrf = form_token(account.body)

    def pledge(self, form: dict) -> Answer:
        """What the widget's htmx form sends: the token in X-CSRFToken (from hx-headers)."""
        return self.request("/support/pledge", form, {"HX-Request": "true", "X-CSRFToken": self.csrf})


@dataclass
class Served:
    """A served app and its address: tests that need to reach the app (to make
    accounts, campaigns) use this rather than the address alone."""

    url: str
    app: object


@contextmanager
def serving_demo(folder, **settings) -> Iterator[Served]:
    """The app with the demo content and these settings, served on a free port in a thread."""
    from webapp.content.importer import import_folder
    from webapp.extensions import db
    from webapp.graph import ranking

    app = make_app(folder, **settings)
    with app.app_context():
        import_folder(db.session, DEMO)
        ranking.compute(db.session)  # the hubs on /explore, as `flask content import` leaves them
        db.session.commit()
    with in_a_thread(app) as url:
        yield Served(url, app)
    drop(app)
