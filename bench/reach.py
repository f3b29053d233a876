"""Issues 15 and 16 against the answer page at 100,000 questions, in one run: the feeds,
the sitemap, robots.txt, /account/following, asking's "Is it one of these?" step, and
search with and without `verdict:`.

    .venv/bin/python bench/reach.py [--count 100000] [--rounds 100] [--keep DIR] [--postgres URL]

The corpus and the desk's data are bench/desk.py's (the same `build`), plus an editor
who follows FOLLOWED questions with CHANGES recorded changes. Requests go through
Flask's test client, interleaved, so machine noise hits every row alike; each row is
given as its median and as a ratio to the answer page's in the same run. Two states:
as the site runs (bodies and feeds kept in the cache), and right after an edit (a new
content version before each request: the answer page renders its body again, the feeds
render theirs). The sitemap's pages of 50,000 addresses are timed in fewer rounds.
Figures: docs/performance.md."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.desk import EDITOR, build, editor_client, percentile  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.accounts.models import User  # noqa: E402
from webapp.answers import cache as content_cache  # noqa: E402
from webapp.answers.models import ANSWERED, Category, Question  # noqa: E402
from webapp.clock import utcnow  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.following.models import Follow, FollowSettings, QuestionChange  # noqa: E402

FOLLOWED, CHANGES = 200, 60
ANSWER = "answer page (reader, 50 answers in turn)"
HIGH = "1000000 per minute"


def make_app(database_url: str, folder: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                       "SEARCH_ENGINE": "postgres" if database_url.startswith("postgresql") else "whoosh",
                       "SEARCH_INDEX_DIR": str(folder / "index"), "SEARCH_REBUILD_IN_BACKGROUND": False,
                       "STATIC_AUTOREFRESH": False, "WTF_CSRF_ENABLED": False, "SITE_URL": "https://plumb.example",
                       "ASK_LIMIT": HIGH, "ASK_DAILY_CAP": 10**6})


def add_following(app) -> None:
    """The editor follows FOLLOWED answers, a few changed since (idempotent for --keep)."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EDITOR))
        if db.session.get(FollowSettings, user_id) is not None:
            return
        ids = random.Random(16).sample(list(db.session.scalars(select(Question.id).where(
            Question.status == ANSWERED))), FOLLOWED)
        earlier = utcnow() - dt.timedelta(days=10)
        db.session.add(FollowSettings(user_id=user_id, feed_token="bench-feed-token", email_digest=True))
        db.session.execute(insert(Follow), [dict(user_id=user_id, question_id=i, created_at=earlier, seen_at=earlier)
                                            for i in ids])
        db.session.execute(insert(QuestionChange), [dict(question_id=ids[n % FOLLOWED], kind="re-checked",
                                                         revision_number=2, created_at=utcnow())
                                                    for n in range(CHANGES)])
        db.session.commit()


def rows(app) -> tuple[dict, dict]:
    with app.app_context():
        answered = list(db.session.scalars(select(Question.slug).where(Question.status == ANSWERED)))
        slugs = random.Random(5).sample(answered, 50)
        category = db.session.scalar(select(Category.slug).order_by(Category.id).limit(1))
        sampled = list(db.session.scalars(select(Question.text).where(Question.slug.in_(slugs[:8]))))
    reader, editor = app.test_client(), editor_client(app)
    # Half of an existing question's words and one of our own: search offers questions
    # like it, none of them the same question, so the step answers "Is it one of these?".
    questions = [" ".join(text.rstrip("?").split()[:4] + ["during", "winter?"]) for text in sampled]
    ask = lambda i: ("POST", "/ask", {"key": f"bench-key-{i:012d}", "text": questions[i % len(questions)]})  # noqa: E731
    common = {
        "baseline /healthz": (reader, lambda i: ("GET", "/healthz", None)),
        ANSWER: (reader, lambda i: ("GET", f"/q/{slugs[i % len(slugs)]}", None)),
        "/feeds/answers.atom": (reader, lambda i: ("GET", "/feeds/answers.atom", None)),
        "/feeds/c/<category>.atom": (reader, lambda i: ("GET", f"/feeds/c/{category}.atom", None)),
        "/feeds/corrections.atom": (reader, lambda i: ("GET", "/feeds/corrections.atom", None)),
        "/robots.txt": (reader, lambda i: ("GET", "/robots.txt", None)),
        "/account/following (200 followed)": (editor, lambda i: ("GET", "/account/following", None)),
        "private feed of followed questions": (reader, lambda i: ("GET", "/following/feed/bench-feed-token.atom", None)),
        "POST /ask, 'Is it one of these?'": (editor, ask),
        "search 'cold weather'": (reader, lambda i: ("GET", "/search?q=cold+weather", None)),
        "search 'cold weather verdict:false'": (reader, lambda i: ("GET", "/search?q=cold+weather+verdict%3Afalse", None)),
    }
    heavy = {
        ANSWER: common[ANSWER],
        "/sitemap.xml (an index past 50,000)": (reader, lambda i: ("GET", "/sitemap.xml", None)),
        "/sitemaps/1.xml (50,000 addresses)": (reader, lambda i: ("GET", "/sitemaps/1.xml", None)),
    }
    return common, heavy


def timings(app, rounds: int) -> dict[str, dict[str, dict[str, list[float]]]]:
    common, heavy = rows(app)
    edited = {name: common[name] for name in (ANSWER, "/feeds/answers.atom", "/feeds/c/<category>.atom",
                                              "/feeds/corrections.atom")}
    phases = {"as it runs": (common, rounds, False), "after an edit": (edited, max(20, rounds // 4), True),
              "the sitemap": (heavy, max(5, rounds // 10), False)}
    for i in range(50):  # warm templates, caches and the database's pages
        for client, request in common.values():
            method, url, data = request(i)
            client.open(url, method=method, data=data)
    found = {}
    for phase, (pages, n, renew) in phases.items():
        found[phase] = {name: {"wall": [], "cpu": []} for name in pages}
        for i in range(n):
            for name, (client, request) in pages.items():
                if renew:
                    with app.app_context():
                        content_cache.renew(db.engine)
                method, url, data = request(i + 1000)
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.open(url, method=method, data=data, headers={"Accept-Encoding": "br, gzip"})
                response.get_data()
                found[phase][name]["cpu"].append((time.process_time() - start_cpu) * 1000)
                found[phase][name]["wall"].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (name, response.status_code, response.get_data()[:200])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="build the SQLite database in DIR, and use it again if it is there")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database's URL (its tables are dropped first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = args.postgres or f"sqlite:///{folder / 'desk.db'}"
        app = make_app(url, folder)
        _facts, built = build(app, args.count, fresh=not args.keep)
        add_following(app)
        if app.config["SEARCH_ENGINE"] == "whoosh":  # search rows read the index: build it whole
            with app.app_context():
                app.extensions["search"].rebuild(procs=min(2, os.cpu_count() or 1))
        found = timings(app, args.rounds)
        engine = "PostgreSQL" if args.postgres else "SQLite"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
          f"load {os.getloadavg()[0]:.1f} · Python {platform.python_version()} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · commit {commit.strip() or 'unknown'} · {engine}")
    print(f"# {args.count:,} questions; {FOLLOWED} followed, {CHANGES} changes"
          + (f"; built in {built:.0f} s" if built else "") + "\n")
    for phase, table in found.items():
        answer = {clock: statistics.median(table[ANSWER][clock]) for clock in ("wall", "cpu")}
        print(f"| {phase}: request ({len(table[ANSWER]['wall'])} rounds) | p50 ms | p95 ms | p50 / answer page "
              f"| CPU p50 ms | CPU p50 / answer page |\n|---|---:|---:|---:|---:|---:|")
        for name, times in table.items():
            wall, cpu = statistics.median(times["wall"]), statistics.median(times["cpu"])
            print(f"| {name} | {wall:.2f} | {percentile(times['wall'], 95):.2f} | {wall / answer['wall']:.2f}× "
                  f"| {cpu:.2f} | {cpu / answer['cpu']:.2f}× |")
        print()


if __name__ == "__main__":
    main()
