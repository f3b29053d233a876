"""Rate limits are counted in one place for every worker, or the server does not start.

With `memory://` storage each gunicorn worker keeps its own counts, so a 5-per-minute
limit lets 5 attempts through *per worker* (issue 10, finding 6). gunicorn.conf.py asks
`problem()` before starting: in production, more than one worker needs shared storage
(Redis), and a Redis named for it must answer. `make serve` runs this module first:
`python -m webapp.operations.ratelimits URL` exits 0 once Redis answers at URL, starting
Debian's `redis-server` on this machine if it is installed and nothing answers."""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import redis
from flask import Flask

from webapp import config

SHARED_SCHEMES = ("redis://", "rediss://")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def per_process(storage: str) -> bool:
    return storage.startswith("memory://")


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping())
    except Exception:  # any failure means "not here"
        return False


def problem(settings: dict, workers: int) -> str | None:
    """Why gunicorn must not start with these settings and this many workers, or None."""
    storage = settings["RATELIMIT_STORAGE_URI"]
    if settings["PLUMB_ENV"] == "production" and workers > 1 and per_process(storage):
        return (f"rate limits would be counted in each worker's memory (RATELIMIT_STORAGE_URI={storage}), so "
                f"{workers} workers would let {workers} times as many attempts through. Set REDIS_URL to a Redis "
                "that every worker reaches (`make serve` starts Debian's redis-server), or run one worker.")
    if storage.startswith(SHARED_SCHEMES) and not redis_answers(storage):
        return (f"the rate limits are kept in Redis at {shown(storage)}, which does not answer. "
                "Start it, or set REDIS_URL to one that answers.")
    return None


def warn_when_serving_per_process(app: Flask) -> None:
    """In production, a server not started by gunicorn.conf.py (`flask run`, another WSGI
    server) with memory:// storage says so loudly on its first request."""
    if app.config["PLUMB_ENV"] != "production" or not per_process(app.config["RATELIMIT_STORAGE_URI"]):
        return
    warned = threading.Event()

    @app.before_request
    def _warn_once() -> None:
        if not warned.is_set():
            warned.set()
            app.logger.warning("rate limits are counted in this process's memory (no REDIS_URL): they hold only "
                               "with one worker on one machine; set REDIS_URL for anything more")


# --- `make serve`: a Redis that answers -------------------------------------------------------

def ensure_redis(url: str, wait_seconds: float = 10) -> str | None:
    """None once Redis answers at `url` (started here if need be), else why not."""
    if redis_answers(url):
        return None
    parts = urlsplit(url)
    server = shutil.which("redis-server")
    if parts.hostname not in LOCAL_HOSTS or server is None:
        return (f"no Redis answers at {shown(url)}. `make serve` keeps the rate limits in Redis so that every "
                "worker counts the same attempts: install Debian's redis-server (apt-get install redis-server) "
                "or set REDIS_URL to a Redis that answers.")
    port = str(parts.port or 6379)
    print(f"== starting redis-server on 127.0.0.1:{port} for the rate limits (stop it: redis-cli -p {port} shutdown)")
    config.INSTANCE.mkdir(exist_ok=True)
    # Counts that last a minute or a day need no saving to disk.
    subprocess.run([server, "--bind", "127.0.0.1", "--port", port, "--daemonize", "yes", "--save", "",
                    "--appendonly", "no", "--dir", str(config.INSTANCE),
                    "--logfile", str(config.INSTANCE / "redis.log")], check=True)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if redis_answers(url):
            return None
        time.sleep(0.2)
    return f"redis-server was started but {shown(url)} does not answer; see {config.INSTANCE / 'redis.log'}"


if __name__ == "__main__":
    failure = ensure_redis(sys.argv[1])
    if failure:
        print(f"make serve: {failure}", file=sys.stderr)
    sys.exit(1 if failure else 0)
