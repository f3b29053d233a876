"""The load test in one command: `make load` (or `.venv/bin/python bench/load.py --help`).

1. Empties the PostgreSQL database named by --database (DROP DATABASE … WITH (FORCE),
   then CREATE; it refuses the server's own databases) and Redis database --redis
   (FLUSHDB: the rate-limit counters);
2. sets it up as an operator would: `flask db upgrade`, `flask content import
   content/demo`, `flask demo synth --count N` (a bigger corpus), `flask search sync`,
   `flask support demo`, and supporter accounts made through the accounts service;
3. starts gunicorn (--workers, PLUMB_ENV=production, Redis for the rate limits);
4. runs Locust headless with bench/locustfile.py, sampling CPU per process group
   (gunicorn, PostgreSQL's backends for this database, Redis, Locust, the rest);
5. stops gunicorn and prints a Markdown table per endpoint, the CPU shares, the
   failures and any error in the server's log; everything is kept in --out.

All Locust users come from 127.0.0.1, and the rate limits are per address (or per
account), so the run raises every rate-limit setting of webapp/config.py (those
whose default reads "N per …") to 100000 per minute: a property of this test, not of the site. Exits 1 if a request
failed or the server logged an error."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from sqlalchemy import create_engine, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import recreate_database  # noqa: E402
from tests.servers import wait_healthy  # noqa: E402

BIN = ROOT / ".venv" / "bin"
HIGH = "100000 per minute"
PASSWORD = "load-test: plumb supporter 7f3c9e"  # accounts on a scratch database only


def limit_settings() -> list[str]:
    """Every rate-limit setting webapp/config.py reads from the environment: those whose
    default is a limit such as "20 per minute;200 per day"."""
    source = (ROOT / "webapp" / "config.py").read_text()
    return sorted(set(re.findall(r'os\.environ\.get\("([A-Z_]+)",\s*"\d+ per ', source)))


def say(message: str) -> None:
    print(f"== {message}", flush=True)


# -- 1, 2: a fresh database with content, a campaign and accounts --

def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def flask(env: dict, *args: str) -> None:
    say("flask " + " ".join(args))
    subprocess.run([str(BIN / "flask"), "--app", "webapp", *args], cwd=ROOT, env=env, check=True)


def make_accounts(url: str, count: int) -> None:
    """Supporters log in with these: confirmed accounts made through the service (as
    `flask accounts create` does), not through the web form and its e-mail."""
    from webapp import create_app
    from webapp.accounts import service
    from webapp.extensions import db

    create = service.create_confirmed
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load-setup", "SITE_URL": "http://127.0.0.1"})
    with app.app_context():
        for number in range(1, count + 1):
            email = f"load-supporter-{number}@example.org"
            if service.user_by_email(db.session, email) is None:
                create(db.session, email, f"Supporter {number}", PASSWORD)
        db.session.remove()


def export_targets(url: str, folder: Path, seed: int = 10) -> tuple[int, int]:
    """slugs.txt and queries.txt for the locustfile: where readers land from elsewhere,
    and what searchers type (words of real questions, a few operators and typos)."""
    from webapp.answers.models import Question

    import random

    rng = random.Random(seed)
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(Question.slug, Question.status, Question.text)).all()
    engine.dispose()
    demo = [r for r in rows if not r.slug.startswith("synth-")]
    synth = [r for r in rows if r.slug.startswith("synth-")]
    chosen = demo + rng.sample(synth, min(len(synth), 2000))
    (folder / "slugs.txt").write_text("".join(f"{r.slug} {r.status}\n" for r in chosen))
    queries = []
    for row in demo:  # the question itself, or its last few words
        words = re.sub(r"[^\w\s'-]", "", row.text).split()
        queries += [" ".join(words), " ".join(words[-3:]).lower()]
    for row in rng.sample(synth, min(len(synth), 200)):
        words = row.text.rstrip("?").split()[1:]
        start = rng.randrange(max(1, len(words) - 2))
        queries.append(" ".join(words[start:start + rng.choice((1, 2, 2, 3))]))
    queries += ["category:health water", "is:unanswered", '"great wall"', "cites:example.org",
                "vitamn c", "goldfsh memory", "qqzzxv", "checked:2025-01..2026-12 sugar"]
    (folder / "queries.txt").write_text("\n".join(queries) + "\n")
    return len(chosen), len(queries)


# -- 3: gunicorn --

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




# -- 4: CPU per process group while Locust runs --

class CpuSampler(threading.Thread):
    """Every `every` seconds: CPU seconds used by each group since the last sample, as
    percent of one core; `top -b -n 1` twice along the way for the record."""

    GROUPS = ("gunicorn", "postgres (this database)", "postgres (other)", "redis", "locust", "everything else")

    def __init__(self, gunicorn_pid: int, locust_pid: int, database: str, out: Path, every: float = 5.0):
        super().__init__(daemon=True)
        self.roots = {"gunicorn": gunicorn_pid, "locust": locust_pid}
        self.database, self.out, self.every = database, out, every
        self.samples: list[dict[str, float]] = []
        self.stopped = threading.Event()
        self.seen: dict[int, float] = {}  # CPU seconds per process at the last sample

    def group_of(self, process: psutil.Process, families: dict[int, str]) -> str | None:
        if process.pid in families:
            return families[process.pid]
        name = process.name()
        if name.startswith("postgres"):
            cmdline = " ".join(process.cmdline())
            return "postgres (this database)" if f" {self.database} " in cmdline else "postgres (other)"
        if name.startswith("redis-server"):
            return "redis"
        return None

    def families(self) -> dict[int, str]:
        found = {}
        for group, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                for member in [root, *root.children(recursive=True)]:
                    found[member.pid] = group
            except psutil.NoSuchProcess:
                pass
        return found

    def used(self, first: bool = False) -> dict[str, float]:
        """CPU seconds per group since the last call (a process new since then counts whole)."""
        totals = dict.fromkeys(self.GROUPS, 0.0)
        families = self.families()
        for process in psutil.process_iter():
            try:
                with process.oneshot():
                    group = self.group_of(process, families)
                    if group is None:
                        continue
                    times = process.cpu_times()
                    seconds = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            before = self.seen.get(process.pid, seconds if first else 0.0)
            self.seen[process.pid] = seconds
            totals[group] += max(0.0, seconds - before)
        return totals

    def run(self) -> None:
        self.used(first=True)
        machine_before, clock = psutil.cpu_times(), time.monotonic()
        while not self.stopped.wait(self.every):
            groups = self.used()
            machine_now, now = psutil.cpu_times(), time.monotonic()
            busy = (sum(machine_now) - machine_now.idle - machine_now.iowait) - (
                sum(machine_before) - machine_before.idle - machine_before.iowait)
            elapsed = now - clock
            named = sum(groups.values())
            groups["everything else"] = max(0.0, busy - named)
            self.samples.append({g: 100 * s / elapsed for g, s in groups.items()} | {"machine": 100 * busy / elapsed})
            machine_before, clock = machine_now, now
            if len(self.samples) in (12, 60) and shutil.which("top"):  # after 1 and 5 minutes
                with (self.out / "top.txt").open("a") as f:
                    f.write(f"--- after {len(self.samples) * self.every:.0f} s\n")
                    f.write(subprocess.run(["top", "-b", "-n", "1", "-w", "160"], capture_output=True,
                                           text=True).stdout[:6000])

    def summary(self, skip: int = 2) -> dict[str, tuple[float, float]]:
        """Mean and peak per group, in percent of one core, leaving out the ramp-up."""
        kept = self.samples[skip:] or self.samples
        if not kept:
            return {}
        return {g: (sum(s[g] for s in kept) / len(kept), max(s[g] for s in kept))
                for g in (*self.GROUPS, "machine")}


# -- 5: the report --

def machine_facts() -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "(not available)"
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="minutes"),
        "commit": run("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
        + (" (with uncommitted changes)" if run("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no")
           else ""),
        "nproc": run("nproc"),
        "lscpu": "\n".join(run("lscpu").splitlines()[:10]),
        "free -g": run("free", "-g"),
        "python": platform.python_version(),
        "postgresql": run("psql", "--version"),
        "load average before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def table(stats_csv: Path) -> tuple[str, dict]:
    rows = list(csv.DictReader(stats_csv.open()))
    lines = ["| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total = {}
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", -int(r["Request Count"]))):
        name = "**all requests**" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        if row["Name"] == "Aggregated":
            total = row
        lines.append(f"| {name} | {int(row['Request Count']):,} | {int(row['Failure Count']):,} | "
                     f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} | "
                     f"{float(row['Max Response Time']):.0f} |")
    return "\n".join(lines), total


def pledge_check(env: dict, url: str) -> tuple[str, bool]:
    """After the run: pledge rows, and whether the campaign's counters agree with them."""
    checked = subprocess.run([str(BIN / "flask"), "--app", "webapp", "support", "check"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("select count(*), count(distinct user_id) from pledge")).one()
    engine.dispose()
    said = (checked.stdout.strip() or checked.stderr.strip()[-500:]).splitlines()[-1:]
    return (f"After the run: {rows[0]} pledge rows from {rows[1]} accounts; `flask support check`: "
            f"{' '.join(said)}"), checked.returncode == 0


def report(out: Path, facts: dict, command: str, sampler: CpuSampler, server_log: Path,
           pledges: tuple[str, bool]) -> tuple[str, bool]:
    stats, total = table(out / "locust_stats.csv")
    failures = list(csv.DictReader((out / "locust_failures.csv").open())) if (out / "locust_failures.csv").exists() else []
    polls: dict[str, int] = {}
    for file in out.glob("polls-*.json"):
        for status, count in json.loads(file.read_text()).items():
            polls[status] = polls.get(status, 0) + count
    log = server_log.read_text(errors="replace")
    errors = [line for line in log.splitlines() if re.search(r"Traceback|\[ERROR\]|\bError\b|CRITICAL|WORKER TIMEOUT", line)]
    parts = [
        f"Date: {facts['date']}; commit {facts['commit']}; Python {facts['python']}; {facts['postgresql']}; "
        f"load average before the run: {facts['load average before']}.",
        f"Machine: `nproc` {facts['nproc']}\n\n```\n{facts['lscpu']}\n\n{facts['free -g']}\n```",
        f"Command: `{command}`",
        stats,
    ]
    if total:
        parts.append(f"Throughput: {float(total['Requests/s']):.1f} requests/s over all endpoints; "
                     f"{int(total['Failure Count'])} failures in {int(total['Request Count']):,} requests.")
    parts.append(pledges[0])
    if polls:
        answered = sum(polls.values())
        parts.append("Polls of /support/progress: " + ", ".join(
            f"{status}: {count:,} ({100 * count / answered:.0f}%)" for status, count in sorted(polls.items())))
    cpu = sampler.summary()
    if cpu:
        parts.append("CPU while Locust ran (percent of one core; 200% is the whole machine; ramp-up left out):\n\n"
                     "| process group | mean % | peak % |\n|---|---:|---:|\n" + "\n".join(
                         f"| {group} | {mean:.0f} | {peak:.0f} |" for group, (mean, peak) in cpu.items()))
    if failures:
        parts.append("Failures:\n\n" + "\n".join(
            f"- {f['Occurrences']}× {f['Method']} {f['Name']}: {f['Error']}" for f in failures))
    if errors:
        parts.append(f"Server log ({server_log}): {len(errors)} error lines; the first:\n\n```\n"
                     + "\n".join(errors[:10]) + "\n```")
    else:
        parts.append("Server log: no errors.")
    ok = not failures and not errors and pledges[1] and bool(total) and int(total["Failure Count"]) == 0
    return "\n\n".join(parts) + "\n", ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/load",
                        help="a scratch PostgreSQL database: it is DROPPED and made anew")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4", help="a scratch Redis database: FLUSHDB")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--time", default="10m", help="Locust's --run-time, e.g. 60s, 10m")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--locust-processes", type=int, default=1, help="Locust's --processes (1: no workers)")
    parser.add_argument("--synth", type=int, default=10_000, help="synthetic questions besides the demo content")
    parser.add_argument("--accounts", type=int, default=20, help="supporter accounts to make")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: a free one)")
    parser.add_argument("--access-log", action="store_true", help="gunicorn writes an access log too")
    parser.add_argument("--classes", nargs="*", default=[], help="only these user classes (e.g. Supporter)")
    parser.add_argument("--skip-setup", action="store_true",
                        help="use the database as it is (a campaign must be open), adding only the supporter accounts")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "plumb-load")
    args = parser.parse_args()

    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    facts = machine_facts()
    port = args.port or free_port()
    site = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLUMB_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": args.database, "REDIS_URL": args.redis, "SITE_URL": site,
           "SEARCH_INDEX_DIR": str(out / "search_index"), **dict.fromkeys(limit_settings(), HIGH)}
    say("rate limits raised for this run (every user is 127.0.0.1): " + ", ".join(limit_settings()))

    if not args.skip_setup:
        say(f"emptying {make_url(args.database).render_as_string(hide_password=True)} and {args.redis}")
        started = time.monotonic()
        recreate_database(args.database)
        flush_redis(args.redis)
        flask(env, "db", "upgrade")
        flask(env, "content", "import", "content/demo")
        if args.synth:
            flask(env, "demo", "synth", "--count", str(args.synth))
        flask(env, "search", "sync")
        flask(env, "support", "demo")
        say(f"set up in {time.monotonic() - started:.0f} s")
    # Also on a database filled otherwise (--skip-setup: `flask demo synth --count 1000000`,
    # docs/capacity.md): the supporters log in with these. Made once, found after.
    say(f"{args.accounts} supporter accounts")
    make_accounts(args.database, args.accounts)
    slugs, queries = export_targets(args.database, out)
    say(f"{slugs} landing pages, {queries} searches in {out}")

    server_log = out / "gunicorn.log"
    command = [str(BIN / "gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
               "--graceful-timeout", "10", *(["--access-logfile", str(out / "access.log")] if args.access_log else []),
               "webapp:create_app()"]
    with server_log.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(site, server, lambda: server_log.read_text(errors="replace"), seconds=60)
        say(f"gunicorn ({args.workers} workers) on {site}, pid {server.pid}")
        locust_command = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                          "--host", site, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                          "--run-time", args.time, "--stop-timeout", "15", "--csv", str(out / "locust"),
                          "--html", str(out / "locust.html"), "--only-summary", "--loglevel", "WARNING"]
        locust_command += args.classes
        if args.locust_processes > 1:
            locust_command += ["--processes", str(args.locust_processes)]
        locust_env = {**env, "PLUMB_LOAD_DATA": str(out), "PLUMB_LOAD_OUT": str(out),
                      "PLUMB_LOAD_ACCOUNTS": str(args.accounts), "PLUMB_LOAD_PASSWORD": PASSWORD}
        shown = (f"locust -f bench/locustfile.py --headless --users {args.users} --spawn-rate {args.spawn_rate:g} "
                 f"--run-time {args.time}" + (f" --processes {args.locust_processes}" if args.locust_processes > 1 else "")
                 + f" --csv … against gunicorn --workers {args.workers} (bench/load.py "
                 + ("--skip-setup, on the database as it was)" if args.skip_setup else f"--synth {args.synth})"))
        say(shown)
        with (out / "locust.log").open("wb") as locust_log:
            locust = subprocess.Popen(locust_command, cwd=ROOT, env=locust_env, stdout=locust_log,
                                      stderr=subprocess.STDOUT)
            sampler = CpuSampler(server.pid, locust.pid, make_url(args.database).database, out)
            sampler.start()
            locust.wait()
            sampler.stopped.set()
            sampler.join()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        say("gunicorn stopped")
    if not (out / "locust_stats.csv").exists():
        print((out / "locust.log").read_text(errors="replace")[-5000:])
        return 1
    text_report, ok = report(out, facts, shown, sampler, server_log, pledge_check(env, args.database))
    (out / "report.md").write_text(text_report)
    print()
    print(text_report)
    say(f"everything is in {out} (report.md, locust_*.csv, locust.html, gunicorn.log, top.txt)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
