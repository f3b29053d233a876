"""Real servers for tests: gunicorn serving the app on a free port of this machine."""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HIGH = "100000 per minute"  # limits no test crowd reaches


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
        _wait_healthy(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(server: Server, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer /healthz within {seconds} s:\n{server.output()}")


