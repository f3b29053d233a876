"""The editors' desk (/desk) against the answer page at 100,000 questions, in one run.

    .venv/bin/python bench/desk.py [--count 100000] [--rounds 200] [--keep DIR] [--postgres URL]

A fresh SQLite database (a temporary folder; BENCH_TMP chooses where, --keep DIR keeps
it and uses it again next time) gets COUNT questions from the `flask demo synth`
generator (90% answered, checked up to 900 days before 1 November 2026, about three
related links each), and what the desk lists, in quantities a site of that size might
have (DESK_DATA): readers' reports, answer requests, 90 days of daily view and follow
counts and searches that found nothing. An empty search index is built first (neither
page reads it; the answer page keeps its body only once the index is there).
`--postgres URL` runs the same on a scratch PostgreSQL database instead (its tables
dropped first: never a database anything else uses).

Requests go through Flask's test client, interleaved, so machine noise hits every row
alike; each is timed by the wall clock and by this process's CPU time. The answer page
is read as a reader reads it (one cookie jar going through 50 random answers in turn:
their bodies cached, as on a running site); /desk by an editor's client. Three states,
each against the answer page in the same state: as it runs (everything cached); after
an edit (a new content version before each request: the answer page renders its body
again, the desk its lists); and nothing kept (after an edit, with
ANSWER_SHARED_SECONDS=0: the desk sums every view and request each time).
Issue 14's target: /desk under 3× the answer page. Figures: docs/performance.md."""
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

from sqlalchemy import func, insert, inspect, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.accounts import service as accounts  # noqa: E402
from webapp.answers import cache as content_cache  # noqa: E402
from webapp.answers.models import ANSWERED, UNANSWERED, Question  # noqa: E402
from webapp.content import synth  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.graph.models import AnswerRequest, DailySignal  # noqa: E402
from webapp.reports.models import ACCEPTED, DECLINED, FIXED, NEW, Report  # noqa: E402
from webapp.search.models import SearchGap  # noqa: E402

# What the desk lists, besides the questions: enough that no list is trivially short.
DESK_DATA = dict(
    reports=500,  # a fifth of them waiting (new)
    requests=40_000,  # over the unanswered questions, a few asked for very often
    view_days=90,  # daily view counts for the last 90 days ...
    viewed_per_day=3_000,  # ... of this many answers a day, a few read very often
    follows_per_day=1_000,  # and follows between answers
    gaps=20_000,  # normalised searches that found nothing, met by 1 to a few hundred readers
)
EDITOR = "editor@example.org"
ANSWER, DESK = "answer page (reader, 50 answers in turn)", "/desk (editor)"
TARGET = 3.0  # /desk at most this many times the answer page (issue 14)


def zipf_choice(rng: random.Random, items: list, k: int) -> list:
    weights = [1 / (rank ** 1.1) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights=weights, k=k)


def add_desk_data(session, today: dt.date, rng: random.Random) -> dict[str, int]:
    """Reports, requests, reading figures and gaps, in bulk (Core inserts)."""
    answered = list(session.scalars(select(Question.id).where(Question.status == ANSWERED).order_by(Question.id)))
    unanswered = list(session.scalars(select(Question.id).where(Question.status == UNANSWERED).order_by(Question.id)))
    rng.shuffle(answered)
    rng.shuffle(unanswered)
    now = dt.datetime.combine(today, dt.time(12))
    decided = (ACCEPTED, DECLINED, FIXED)
    session.execute(insert(Report), [
        dict(question_id=rng.choice(answered), what=f"Source {i} says otherwise; see the second paragraph. " * 3,
             source_url=f"https://example.org/report/{i}", state=NEW if i % 5 == 0 else rng.choice(decided),
             created_at=now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 120)))
        for i in range(DESK_DATA["reports"])])
    wanted = zipf_choice(rng, unanswered, DESK_DATA["requests"])
    session.execute(insert(AnswerRequest), [
        dict(question_id=qid, requester=f"browser:{i}", created_at=now) for i, qid in enumerate(wanted)])
    rows = []
    for back in range(DESK_DATA["view_days"]):
        day = today - dt.timedelta(days=back)
        read = set(zipf_choice(rng, answered, DESK_DATA["viewed_per_day"] * 2))
        for qid in list(read)[:DESK_DATA["viewed_per_day"]]:
            rows.append(dict(day=day, kind="view", question_id=qid, from_id=0, count=rng.randint(1, 40)))
        # Follows from one answer to another ("went on to read" on the answer page reads them).
        pairs = {(a, b) for a, b in zip(zipf_choice(rng, answered, DESK_DATA["follows_per_day"]),
                                        rng.choices(answered, k=DESK_DATA["follows_per_day"]), strict=True) if a != b}
        rows += [dict(day=day, kind="follow", question_id=b, from_id=a, count=rng.randint(1, 5)) for a, b in pairs]
        if len(rows) > 50_000:
            session.execute(insert(DailySignal), rows)
            rows = []
    if rows:
        session.execute(insert(DailySignal), rows)
    session.execute(insert(SearchGap), [
        dict(query=f"gap {i} {synth.SYLLABLES[i % len(synth.SYLLABLES)]}", count=max(1, int(400 / (1 + i) ** 0.8)),
             first_seen=now - dt.timedelta(days=rng.randint(30, 200)),
             last_seen=now - dt.timedelta(days=rng.randint(0, 29)))
        for i in range(DESK_DATA["gaps"])])
    session.commit()
    signals = session.scalar(select(func.count()).select_from(DailySignal))
    return dict(answered=len(answered), unanswered=len(unanswered), signals=signals)


def make_app(database_url: str, folder: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                       "SEARCH_ENGINE": "postgres" if database_url.startswith("postgresql") else "whoosh",
                       "SEARCH_INDEX_DIR": str(folder / "index"), "SEARCH_REBUILD_IN_BACKGROUND": False,
                       "STATIC_AUTOREFRESH": False})
    return app


def build(app, count: int, fresh: bool) -> tuple[dict, float]:
    """The corpus and the desk's data, unless --keep found them built already."""
    with app.app_context():
        whoosh = app.config["SEARCH_ENGINE"] == "whoosh"
        if (not fresh and inspect(db.engine).has_table("search_gap")
                and db.session.scalar(select(func.count()).select_from(Question)) == count
                and (not whoosh or app.extensions["search"].index.usable())):
            return {}, 0.0
        db.drop_all()
        db.create_all()
        if whoosh:
            # Built while there are no questions, so empty: neither page reads it (the
            # answer page's similar answers are for unanswered questions), but the answer
            # page keeps its body only once the index is there and up to date.
            app.extensions["search"].rebuild()
        start = time.perf_counter()
        synth.generate(db.session, count)
        facts = add_desk_data(db.session, dt.date.today(), random.Random(14))
        user = accounts.create_confirmed(db.session, EDITOR, "Ed Itor", "bench-password-long-enough")
        user.is_editor = True
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after bulk inserts. SQLite gets no ANALYZE: Plumb never
            # runs one, so its planner works without statistics there, as here.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        return facts, time.perf_counter() - start


def editor_client(app):
    from webapp.accounts.models import User

    client = app.test_client()
    with app.app_context():
        ident = db.session.scalar(select(User).where(User.email == EDITOR)).get_id()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = ident, True
    return client


def _fixed(url: str):
    return lambda i: url


def timings(app, rounds: int) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Per phase and row, milliseconds by wall clock and by this process's CPU time."""
    with app.app_context():
        answered = list(db.session.scalars(select(Question.slug).where(Question.status == ANSWERED)))
        slugs = random.Random(5).sample(answered, 50)
    reader, editor = app.test_client(), editor_client(app)
    answer = (reader, lambda i: f"/q/{slugs[i % len(slugs)]}", False)
    desk = (editor, lambda i: "/desk/", False)
    warm = {
        "baseline /healthz": (reader, lambda i: "/healthz", False),
        ANSWER: answer,
        DESK: desk,
        "/desk (editor, htmx)": (editor, lambda i: "/desk/", True),
        **{f"section {name} (htmx)": (editor, _fixed(f"/desk/sections/{name}"), True)
           for name in ("reports", "requests", "stale", "gaps", "orphans")},
    }
    phases = {
        # As the site runs: the answer bodies and the desk's lists kept in the cache.
        "as it runs": (warm, rounds, None),
        # Right after an edit: a new content version before each request, so the answer
        # page renders its body again and the desk its lists (the ranking by views stays).
        "after an edit": ({ANSWER: answer, DESK: desk}, max(20, rounds // 4), dict(renew=True)),
        # Nothing kept for a while (ANSWER_SHARED_SECONDS=0) and a new version each time.
        "nothing kept": ({ANSWER: answer, DESK: desk}, max(20, rounds // 4), dict(renew=True, seconds=0)),
    }
    for i in range(len(slugs)):  # warm Jinja's compiled templates, the caches, the database's pages
        for client, url, htmx in warm.values():
            client.get(url(i), headers={"HX-Request": "true"} if htmx else {})
    found = {}
    seconds = app.config["ANSWER_SHARED_SECONDS"]
    for phase, (pages, n, how) in phases.items():
        how = how or {}
        app.config["ANSWER_SHARED_SECONDS"] = how.get("seconds", seconds)
        found[phase] = {name: {"wall": [], "cpu": []} for name in pages}
        for i in range(n):
            for name, (client, url, htmx) in pages.items():  # interleaved: noise hits every row alike
                if how.get("renew"):
                    with app.app_context():
                        content_cache.renew(db.engine)
                headers = {"Accept-Encoding": "br, gzip", **({"HX-Request": "true"} if htmx else {})}
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url(i), headers=headers)
                response.get_data()
                found[phase][name]["cpu"].append((time.process_time() - start_cpu) * 1000)
                found[phase][name]["wall"].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (name, response.status_code)
    app.config["ANSWER_SHARED_SECONDS"] = seconds
    return found


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the SQLite database in DIR, and use it again if it is there")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database's URL (its tables are dropped first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = args.postgres or f"sqlite:///{folder / 'desk.db'}"
        app = make_app(url, folder)
        facts, built = build(app, args.count, fresh=not args.keep)
        found = timings(app, args.rounds)
        engine = "PostgreSQL" if args.postgres else "SQLite"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
          f"load {os.getloadavg()[0]:.1f} · Python {platform.python_version()} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · commit {commit.strip() or 'unknown'} · {engine}")
    print(f"# {args.count:,} questions; {DESK_DATA}" + (f"; {facts}; built in {built:.0f} s" if facts else "") + "\n")
    for phase, rows in found.items():
        answer = {clock: statistics.median(rows[ANSWER][clock]) for clock in ("wall", "cpu")}
        print(f"| {phase}: request ({len(rows[ANSWER]['wall'])} rounds) | p50 ms | p95 ms | p50 / answer page "
              f"| CPU p50 ms | CPU p50 / answer page | target |\n|---|---:|---:|---:|---:|---:|---|")
        for name, times in rows.items():
            wall, cpu = statistics.median(times["wall"]), statistics.median(times["cpu"])
            verdict = ""
            if name.startswith("/desk"):
                met = max(wall / answer["wall"], cpu / answer["cpu"]) < TARGET
                verdict = f"< {TARGET:g}×: {'met' if met else 'NOT met'}"
            print(f"| {name} | {wall:.2f} | {percentile(times['wall'], 95):.2f} | {wall / answer['wall']:.2f}× "
                  f"| {cpu:.2f} | {cpu / answer['cpu']:.2f}× | {verdict} |")
        print()


if __name__ == "__main__":
    main()
