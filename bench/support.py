"""Supporter widget and pledges under gunicorn: requests/second against a baseline in the same run.

    .venv/bin/python bench/support.py [--seconds 5] [--rounds 3] [--connections 4] [--clients 8]
                                      [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/scratch]

A fresh SQLite database (and, with --postgres, a scratch PostgreSQL database whose
tables are DROPPED first) gets one running campaign and a few accounts; gunicorn serves
it with 2 sync workers on 127.0.0.1. The load generator is wrk when it is installed
(`apt-get install wrk`), a Python thread pool otherwise. Rows, interleaved ROUNDS times
so machine noise hits every row alike:
- baseline /healthz (one `select 1`);
- GET /support/progress as the widget polls it, with If-None-Match equal to the current
  ETag: a 304 without rendering;
- the same without If-None-Match: a 200 with the rendered bar;
- GET /support/widget as a page loads it lazily (logged out, no cookie: a new session
  and CSRF token each time, the whole ask rendered).
Then CLIENTS logged-in readers pledge as fast as they can through the htmx form (each
POST a new idempotency key), against /healthz fetched by the same Python clients as
their baseline; `flask support check` runs at the end. Last, the three GET rows again
in-process (Flask's test client), which shows Plumb's own work per request without the
HTTP server and the load generator sharing the CPUs. Then Stripe's webhook endpoint:
signed `checkout.session.completed` events a second, new and replayed, against /healthz
from the same threads (bench/webhooks.py, which also runs on its own; --webhook-events 0
leaves it out)."""
from __future__ import annotations

import argparse
import datetime as dt
import ctypes
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench import webhooks  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.accounts import service  # noqa: E402
from webapp.clock import utcnow  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.support import pledges  # noqa: E402
from webapp.support.models import Campaign, Pledge  # noqa: E402

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PASSWORD = "plumb-line-7-walrus-quietly"
HIGH = "1000000 per minute"
HTMX = {"HX-Request": "true"}
# Statuses are counted by wrk itself ("Non-2xx or 3xx responses: N" in its report),
# not in Lua: a response() function would make wrk hand every body to Lua and slow it.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "socket_errors": %d, "p50": %f, "p95": %f}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""
WRK_BAD_STATUS = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")


# --- the database and the server ---------------------------------------------------------

def prepare(url: str, folder: Path, clients: int) -> list[str]:
    """A running campaign and CLIENTS accounts; returns their emails."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SEARCH_INDEX_DIR": str(folder / "index")})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(Campaign(slug="keep-plumb-independent", headline="Keep Plumb independent",
                                text="Readers pay for the research, so every answer stays free.",
                                goal_kind="supporters", goal=1000, currency="USD", goal_offset=0, supporters=0,
                                amount_cents=0, deadline=utcnow() + dt.timedelta(days=365)))
        emails = [f"bench{n}@example.org" for n in range(clients)]
        for n, email in enumerate(emails):
            service.create_confirmed(db.session, email, f"Bench {n}", PASSWORD)
        db.session.commit()
        db.engine.dispose()
    return emails


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


@contextmanager
def gunicorn(url: str, folder: Path, workers: int = 2):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.set_inheritable(True)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {**os.environ, "SECRET_KEY": "bench-secret", "DATABASE_URL": url, "PLUMB_ENV": "development",
           "SEARCH_INDEX_DIR": str(folder / "index"), "PLEDGE_LIMIT": HIGH, "LOGIN_LIMIT_ADDRESS": HIGH,
           "LOGIN_LIMIT_ACCOUNT_ADDRESS": HIGH, "REGISTER_LIMIT_ADDRESS": HIGH}
    env.pop("REDIS_URL", None)
    log_path = folder / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(GUNICORN), "--workers", str(workers), "--bind", f"fd://{listener.fileno()}",
                                    "webapp:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   pass_fds=(listener.fileno(),), preexec_fn=_die_with_parent)
    listener.close()
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(15)
        errors = [line for line in log_path.read_text(errors="replace").splitlines()
                  if "Traceback" in line or "Error" in line or "WORKER TIMEOUT" in line]
        if errors:
            print(f"server log ({log_path}) has errors:\n" + "\n".join(errors[:20]), file=sys.stderr)


# --- load generators ---------------------------------------------------------------------

class Reader:
    """One browser: a cookie jar, and the CSRF token its pages carry."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def fetch(self, path: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode()
                                         if data is not None else None, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), dict(error.headers)

    def log_in(self, email: str) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.fetch("/login")[1]).group(1)
        self.fetch("/login", {"email": email, "password": PASSWORD, "csrf_token": token})
        status, body, _ = self.fetch("/account")
        assert status == 200 and "Change password" in body, f"{email} could not log in"
        self.csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)


def wrk(url: str, headers: dict, seconds: float, connections: int, threads: int, script: Path) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    found = json.loads(output.split("WRK ", 1)[1].splitlines()[0])
    bad_status = WRK_BAD_STATUS.search(output)  # wrk prints the line only when some were
    if bad_status or found["socket_errors"]:
        raise SystemExit(f"{url}: {bad_status.group(1) if bad_status else 0} of {found['requests']:,} responses "
                         f"not 2xx or 3xx, {found['socket_errors']} socket errors (wrk):\n{output}")
    return {"rps": found["requests"] / found["seconds"], "p50": found["p50"], "p95": found["p95"],
            "count": found["requests"]}


def hammer(readers: list[Reader], one, seconds: float) -> dict:
    """Each reader in its own thread calls `one(reader)` (a request that returns a status)
    until SECONDS have passed."""
    latencies: list[list[float]] = [[] for _ in readers]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(readers) + 1)

    def run(n: int) -> None:
        start.wait()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            status = one(readers[n])
            latencies[n].append((time.perf_counter() - began) * 1000)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(readers))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for per in latencies for x in per)
    return {"rps": len(flat) / elapsed, "p50": statistics.median(flat), "p95": statistics.quantiles(flat, n=20)[-1],
            "count": len(flat), "statuses": statuses}


# --- one database ------------------------------------------------------------------------

def bench(label: str, url: str, args, folder: Path) -> None:
    emails = prepare(url, folder, args.clients)
    script = folder / "report.lua"
    script.write_text(WRK_SCRIPT)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    with gunicorn(url, folder) as base:
        probe = Reader(base)
        status, _, headers = probe.fetch("/support/progress", headers=HTMX)
        etag = headers["ETag"]
        assert status == 200 and probe.fetch("/support/progress", headers={**HTMX, "If-None-Match": etag})[0] == 304
        rows = {
            "baseline /healthz": ("/healthz", {}, 200),
            "/support/progress, unchanged (304)": ("/support/progress", {**HTMX, "If-None-Match": etag}, 304),
            "/support/progress, rendered (200)": ("/support/progress", HTMX, 200),
            "/support/widget, first load (200)": ("/support/widget", HTMX, 200),
        }
        readers = [Reader(base) for _ in range(args.connections)]

        def measure(path, headers, expected, seconds):
            if use_wrk:
                # wrk fails a run on any status outside 2xx/3xx; which one of those a row
                # gets (200 or 304) is checked by one request before and one after.
                status_before = probe.fetch(path, headers=headers)[0]
                found = wrk(base + path, headers, seconds, args.connections, args.wrk_threads, script)
                status_after = probe.fetch(path, headers=headers)[0]
                if status_before != expected or status_after != expected:
                    raise SystemExit(f"{path}: expected {expected}, got {status_before} before wrk, {status_after} after")
                return found
            found = hammer(readers, lambda r: r.fetch(path, headers=headers)[0], seconds)
            assert set(found["statuses"]) == {expected}, found["statuses"]
            return found

        for path, headers, expected in rows.values():  # warm both workers
            measure(path, headers, expected, 1)
        results: dict[str, list[dict]] = {name: [] for name in rows}
        for _ in range(args.rounds):
            for name, (path, headers, expected) in rows.items():
                results[name].append(measure(path, headers, expected, args.seconds))
        assert probe.fetch("/support/progress", headers={**HTMX, "If-None-Match": etag})[0] == 304  # nothing moved

        # Pledges: each client logged in, each POST a new key, as the widget's form sends it.
        clients = [Reader(base) for _ in emails]
        for reader, email in zip(clients, emails, strict=True):
            reader.log_in(email)

        def health(reader: Reader) -> int:
            return reader.fetch("/healthz")[0]

        def pledge(reader: Reader) -> int:
            form = {"amount": "1000", "frequency": "once", "key": pledges.new_key()}
            return reader.fetch("/support/pledge", form, {**HTMX, "X-CSRFToken": reader.csrf})[0]

        hammer(clients, health, 1)
        posts: dict[str, list[dict]] = {"baseline /healthz (same clients)": [], "POST /support/pledge": []}
        for _ in range(args.rounds):
            posts["baseline /healthz (same clients)"].append(hammer(clients, health, args.seconds))
            posts["POST /support/pledge"].append(hammer(clients, pledge, args.seconds))
        for name, runs in posts.items():
            statuses = {s for run in runs for s in run["statuses"]}
            assert statuses == {200}, (name, [run["statuses"] for run in runs])
        after = probe.fetch("/support/progress", headers=HTMX)[1]

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SEARCH_INDEX_DIR": str(folder / "index")})
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        pledged = sum(run["count"] for run in posts["POST /support/pledge"])
        rows_count = db.session.scalar(select(func.count()).select_from(Pledge))
        state = (f"{rows_count:,} pledge rows for {pledged:,} POSTs; campaign counters: {campaign.supporters} "
                 f"supporters, ${campaign.amount_cents / 100:,.2f}")
        assert rows_count == pledged and campaign.amount_cents == 1000 * pledged
        assert campaign.supporters == len(emails) and f'value="{len(emails)}"' in after, after
        db.session.remove()
    check = app.test_cli_runner().invoke(args=["support", "check"])
    with app.app_context():
        db.engine.dispose()

    tool = (f"wrk, {args.wrk_threads} thread(s), {args.connections} connections" if use_wrk
            else f"Python client, {args.connections} threads")
    print(f"\n### {label}: gunicorn, 2 sync workers\n")
    print(f"| request ({tool}; {args.rounds} × {args.seconds:g} s, interleaved) | req/s | p50 ms | p95 ms "
          f"| req/s / baseline |\n|---|---:|---:|---:|---:|")
    _table(results, "baseline /healthz")
    print(f"\n| request ({args.clients} logged-in Python clients; {args.rounds} × {args.seconds:g} s, interleaved) "
          f"| req/s | p50 ms | p95 ms | req/s / baseline |\n|---|---:|---:|---:|---:|")
    _table(posts, "baseline /healthz (same clients)")
    inproc = in_process(url, folder, args.inproc_rounds)
    base = statistics.median(inproc["baseline /healthz"][0])
    print(f"\n| same requests in-process (test client, {args.inproc_rounds:,} interleaved rounds) | body bytes "
          f"| p50 ms | p95 ms | p50 / baseline |\n|---|---:|---:|---:|---:|")
    for name, (times, size) in inproc.items():
        p50 = statistics.median(times)
        print(f"| {name} | {size:,} | {p50:.2f} | {statistics.quantiles(times, n=20)[-1]:.2f} | {p50 / base:.2f}× |")
    print(f"\nAfter the pledges: {state}. `flask support check`: {check.output.strip()} (exit {check.exit_code}).")


def _table(results: dict[str, list[dict]], baseline: str) -> None:
    base = statistics.median(run["rps"] for run in results[baseline])
    for name, runs in results.items():
        rps = statistics.median(run["rps"] for run in runs)
        p50 = statistics.median(run["p50"] for run in runs)
        p95 = statistics.median(run["p95"] for run in runs)
        print(f"| {name} | {rps:,.0f} | {p50:.1f} | {p95:.1f} | {rps / base:.2f}× |")


def in_process(url: str, folder: Path, rounds: int) -> dict[str, tuple[list[float], int]]:
    """The same requests through Flask's test client: Plumb's own work, without
    the HTTP server and the load generator sharing the CPUs."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SEARCH_INDEX_DIR": str(folder / "index")})
    client = app.test_client()
    etag = client.get("/support/progress", headers=HTMX).headers["ETag"]
    rows = {"baseline /healthz": ("/healthz", {}, 200),
            "/support/progress, unchanged (304)": ("/support/progress", {**HTMX, "If-None-Match": etag}, 304),
            "/support/progress, rendered (200)": ("/support/progress", HTMX, 200),
            "/support/widget, first load (200)": ("/support/widget", HTMX, 200)}
    found: dict[str, tuple[list[float], int]] = {name: ([], 0) for name in rows}
    for n in range(rounds + 50):
        for name, (path, headers, expected) in rows.items():
            began = time.perf_counter()
            response = client.get(path, headers=headers)
            took = (time.perf_counter() - began) * 1000
            assert response.status_code == expected, (name, response.status_code)
            if n >= 50:  # the first rounds warm caches and templates
                found[name][0].append(took)
                found[name] = (found[name][0], len(response.data))
    with app.app_context():
        db.engine.dispose()
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (or Python threads)")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8, help="logged-in readers pledging at once")
    parser.add_argument("--inproc-rounds", type=int, default=2000)
    parser.add_argument("--python-client", action="store_true", help="use the Python client even if wrk is installed")
    parser.add_argument("--postgres", metavar="URL", help="also run on this scratch PostgreSQL database (tables dropped)")
    parser.add_argument("--webhook-events", type=int, default=600, help="signed Stripe events to send (0: none)")
    args = parser.parse_args()
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · {cpu_model()} · Python {platform.python_version()} · "
          f"{time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp, "sqlite")
        folder.mkdir()
        bench("SQLite (WAL)", f"sqlite:///{folder / 'bench.db'}", args, folder)
        if args.postgres:
            folder = Path(tmp, "postgres")
            folder.mkdir()
            bench("PostgreSQL", args.postgres, args, folder)
    for label, url in (("SQLite (WAL)", None), ("PostgreSQL", args.postgres)):
        if args.webhook_events and (url or label.startswith("SQLite")):
            measured = webhooks.measure(url, args.webhook_events)
            print(f"\n## Stripe webhooks, {label}: {args.webhook_events} events from 20 threads, 3 gunicorn workers\n")
            print(webhooks.table(measured))
            if measured["drift"]:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
