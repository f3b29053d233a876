""""How are these connected?" on an existing database: the chain search with each step's
links read as before issue 18's fourth round (either end in one OR of two IN lists, the
links' rows read) against now (each end from an index holding both, one array each),
pair by pair in turn, in one process.

    DATABASE_URL=postgresql+psycopg://…/million .venv/bin/python bench/chains.py [--pairs 100]

Prints p50/p95/max of each, their ratio, and how long the chains were, for
docs/performance.md."""
from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import or_, select, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.answers.models import RelatedLink  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.graph import chains  # noqa: E402


def links_before(_session, ids: list[int]):
    return select(RelatedLink.from_id, RelatedLink.to_id).where(
        or_(RelatedLink.from_id.in_(ids), RelatedLink.to_id.in_(ids)))


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    app = create_app()
    now = chains.links_touching
    times: dict[str, list[float]] = {"before": [], "now": []}
    lengths: list[int | None] = []
    with app.app_context():
        database = db.engine.url.database
        answered = list(db.session.scalars(text("SELECT id FROM question WHERE status = 'answered'")))
        rng = random.Random(args.seed)
        for index in range(args.pairs + 2):
            start, end = rng.sample(answered, 2)
            order = [("before", links_before), ("now", now)]
            found = {}
            for name, reader in order if index % 2 else order[::-1]:
                chains.links_touching = reader
                began = time.perf_counter()
                found[name] = chains.chain(db.session, start, end)
                elapsed = (time.perf_counter() - began) * 1000
                db.session.rollback()
                if index >= 2:  # the first two warm the caches
                    times[name].append(elapsed)
            chains.links_touching = now
            assert (found["before"] is None) == (found["now"] is None)
            if found["now"] and found["before"]:
                assert len(found["now"]) == len(found["before"])
            if index >= 2:
                lengths.append(len(found["now"]) - 1 if found["now"] else None)
                print(f"pair {index - 1}: before {times['before'][-1]:.0f} ms, now {times['now'][-1]:.0f} ms, "
                      f"{lengths[-1]} steps", file=sys.stderr, flush=True)
    print(f"{platform.node()}, {args.pairs} pairs of answered questions, {database}")
    print("| links read | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {quantile(values, .5):.1f} | {quantile(values, .95):.1f} | {max(values):.1f} |")
    print(f"now / before: p50 {quantile(times['now'], .5) / quantile(times['before'], .5):.2f}x, "
          f"p95 {quantile(times['now'], .95) / quantile(times['before'], .95):.2f}x")
    steps = sorted({n for n in lengths if n is not None})
    print("chain lengths:", ", ".join(f"{n} steps: {lengths.count(n)}" for n in steps),
          f"; none within reach: {lengths.count(None)}")


if __name__ == "__main__":
    main()
