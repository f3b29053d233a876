"""Answer page and explorer on a large synthetic graph, against a baseline in the same run.

    .venv/bin/python bench/graph.py [--count 100000] [--rounds 200]

A fresh SQLite database gets COUNT questions from the `flask demo synth` generator
(about three related links each). Requests go through Flask's test client, interleaved
with the `/healthz` baseline so machine noise hits every row alike. The search index is
not built: none of these pages read it."""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.content import synth  # noqa: E402
from webapp.extensions import db  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from webapp.answers.models import ANSWERED, Question, RelatedLink  # noqa: E402
from webapp.graph import ranking  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/graph.db", "SECRET_KEY": "bench",
                          "SEARCH_INDEX_DIR": f"{tmp}/index"})
        app.extensions["search"].index.mark_rebuilding()  # keep start-up from indexing meanwhile
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            synth.generate(db.session, args.count)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            ranking.compute(db.session)  # `flask graph rank`: offline, after imports
            db.session.commit()
            built = time.perf_counter() - start
            edges = db.session.scalar(select(func.count()).select_from(RelatedLink))
            answered = list(db.session.scalars(select(Question.slug).where(Question.status == ANSWERED)))
        client = app.test_client()
        rng = random.Random(5)
        pages = {
            "baseline /healthz": lambda: "/healthz",
            "answer page /q/<slug>": lambda: f"/q/{rng.choice(answered)}",
            "explorer, 1 hop": lambda: f"/explore/{rng.choice(answered)}?hops=1",
            "explorer, 2 hops": lambda: f"/explore/{rng.choice(answered)}?hops=2",
            "explorer re-centre (htmx)": lambda: f"/explore/{rng.choice(answered)}",
            "chain between two answers": lambda: (f"/explore/path?from={rng.choice(answered)}"
                                                  f"&to={rng.choice(answered)}"),
            "explore index (hubs)": lambda: "/explore",
        }
        times = {name: [] for name in pages}
        for _ in range(args.rounds):
            for name, url in pages.items():
                headers = {"HX-Request": "true", "HX-Target": "explorer"} if "htmx" in name else None
                started = time.perf_counter()
                response = client.get(url(), headers=headers)
                times[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (name, response.status_code)
    base = statistics.median(times["baseline /healthz"])
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}. {args.count:,} questions, {edges:,} links; generated in {generated:.0f} s; "
          f"PageRank computed and stored (`flask graph rank`, offline) in {built:.1f} s.\n")
    print(f"| request ({args.rounds} rounds) | p50 ms | p95 ms | p50 / baseline |\n|---|---:|---:|---:|")
    for name, values in times.items():
        p50 = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {p50 / base:.0f}× |")


if __name__ == "__main__":
    main()
