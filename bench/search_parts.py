"""Where the PostgreSQL engine's search time goes: each statement of a results page
timed apart, per query kind, and EXPLAIN (ANALYZE, BUFFERS) of each statement for a
typical query of each kind.

    .venv/bin/python bench/search_parts.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_search
                                           [--queries 100] [--explain]

Run it on a database `bench/search.py --keep` left (the same synthetic corpus and the
same queries), or with `--site` on any filled database (the million of docs/capacity.md)
with the queries bench/site.py draws: random words of random questions, one, two or
three of them, or two as a phrase. It reads only; nothing is changed."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import importlib.util  # noqa: E402
import random  # noqa: E402

from search import KINDS, POSTGRES, pct, queries  # noqa: E402
from sqlalchemy import event  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.search import service  # noqa: E402
from webapp.search.query import parse  # noqa: E402

PARTS = ("counts and facets", "count estimate (EXPLAIN)", "ranked page + headlines", "ranked page: other",
         "known words", "trigram candidates", "correction exists", "other")


def site_queries(url: str, count: int, seed: int) -> dict[str, list[tuple[str, list[str]]]]:
    """Queries as bench/site.py makes them, by kind."""
    # bench/site.py by its path: `import site` is Python's own module.
    spec = importlib.util.spec_from_file_location("site_bench", ROOT / "bench" / "site.py")
    site_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site_bench)
    words = site_bench.sample(url, seed)["words"]
    rng = random.Random(seed)
    made: dict[str, list] = {kind: [] for kind in KINDS}
    for _ in range(count):
        for n, kind in ((1, "1 term"), (2, "2 terms"), (3, "3 terms")):
            picked = rng.sample(words, n)
            made[kind].append((" ".join(picked), picked))
        pair = [rng.choice(words), rng.choice(words)]
        made["phrase"].append((f'"{pair[0]} {pair[1]}"', pair))
    return made


def part_of(statement: str) -> str:
    """Which part of a results page a statement of webapp/search/postgres/querying.py is
    (recognised by its text, as the code changes)."""
    if "GROUP BY" in statement and "category" in statement:
        return "counts and facets"
    if statement.startswith("EXPLAIN (FORMAT JSON)"):
        return "count estimate (EXPLAIN)"
    if "ts_headline" in statement:
        return "ranked page + headlines"
    if "search_document" in statement and ("LIMIT" in statement or "ORDER BY" in statement):
        return "ranked page: other"
    if "word = ANY" in statement:
        return "known words"
    if "similarity(word" in statement:
        return "trigram candidates"
    if "SELECT EXISTS" in statement:
        return "correction exists"
    return "other"


class Recorder:
    """Every statement a search runs, with its parameters and milliseconds."""

    def __init__(self, engine):
        self.statements: list[tuple[str, object, float]] = []
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        took = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
        self.statements.append((statement, parameters, took))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the median query of each kind")
    parser.add_argument("--site", action="store_true", help="bench/site.py's queries, on any filled database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--meaning", action="store_true",
                        help="search by meaning too (off by default, as in bench/site.py and at 1,000,000)")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.postgres, "SEARCH_ENGINE": "postgres", "SECRET_KEY": "x",
                      "SEARCH_INDEX_DIR": "/nonexistent/unused", "SEARCH_MEANING": args.meaning})
    with app.app_context():
        made = site_queries(args.postgres, args.queries, args.seed) if args.site else queries(db.session, args.queries)
        recorder = Recorder(db.engine)
    times: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in KINDS}
    kept: dict[str, list] = {k: [] for k in KINDS}
    corrected: dict[str, int] = dict.fromkeys(KINDS, 0)  # "Did you mean" although the words found results
    looked_up: dict[str, int] = dict.fromkeys(KINDS, 0)  # queries that ran the trigram lookup
    for position in range(args.queries):
        for kind in KINDS:
            text_, _words = made[kind][position]
            recorder.statements.clear()
            with app.app_context():
                start = time.perf_counter()
                page = service.search(db.session, parse(text_))
                whole = (time.perf_counter() - start) * 1000
            spent = defaultdict(float)
            for statement, _params, took in recorder.statements:
                spent[part_of(statement)] += took
            for part in PARTS:
                times[kind][part].append(spent.get(part, 0.0))
            times[kind]["statements"].append(len(recorder.statements))
            times[kind]["whole page"].append(whole)
            times[kind]["Python, outside SQL"].append(whole - sum(spent.values()))
            kept[kind].append((whole, text_, page.total, list(recorder.statements)))
            corrected[kind] += bool(page.suggestion and page.total)
            looked_up[kind] += any(part_of(s) == "trigram candidates" for s, _p, _t in recorder.statements)
    print("| query | part (whole page, as service.search makes it) | p50 ms | p95 ms | mean ms |")
    print("|---|---|---:|---:|---:|")
    for kind in KINDS:
        for part in (*PARTS, "Python, outside SQL", "whole page", "statements"):
            values = times[kind][part]
            if not any(values):
                continue
            print(f"| {kind} | {part} | {statistics.median(values):.1f} | {pct(values, 95):.1f} | "
                  f"{statistics.mean(values):.1f} |")
    for kind in KINDS:
        totals = [t for _w, _t, t, _s in kept[kind]]
        print(f"{kind}: matches p50 {statistics.median(totals):,.0f}, p95 {pct(totals, 95):,.0f}, "
              f"max {max(totals):,}; trigram lookups in {looked_up[kind]}, "
              f"a correction offered although results were found in {corrected[kind]} of {args.queries}")
    if not args.explain:
        return
    with app.app_context():
        for kind in KINDS:
            ordered = sorted(kept[kind], key=lambda k: k[0])
            for label, (whole, text_, total, statements) in (("median", ordered[len(ordered) // 2]),
                                                            ("p95", ordered[int(len(ordered) * 0.95)])):
                db.session.rollback()  # each query's SET LOCAL in a transaction of its own
                connection = db.session.connection()
                print(f"\n=== {kind}, {label} query {text_!r}: {total:,} matches, page {whole:.1f} ms")
                for statement, params, took in statements:
                    if statement.startswith(("EXPLAIN", "SET", "RESET")):
                        print(f"--- {part_of(statement)} ({took:.1f} ms when timed): {statement}")
                        if statement.startswith(("SET", "RESET")):
                            connection.exec_driver_sql(statement)
                        continue
                    print(f"--- {part_of(statement)} ({took:.1f} ms when timed)\n{statement}\n{params}")
                    plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
                    print("\n".join(r[0] for r in plan))


if __name__ == "__main__":
    main()
