"""Search relevance on the demo content, engine by engine: how many of the relevance
cases in tests/relevance_cases.py (those tests/test_search.py checks) find their
expected answer in the top 3, and the mean reciprocal rank over the first 10 hits.

    .venv/bin/python bench/relevance.py [--engines whoosh postgres]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_relevance]

Whoosh runs on a SQLite database and index in a temporary folder (BENCH_TMP chooses
where); PostgreSQL on a scratch database, dropped and created again, dropped at the
end. Each gets `flask content import content/demo`'s work (import, then the suggested
related questions), then every case goes through `webapp.search.service.search`."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import ENGINES, LABELS, drop_database, recreate_database, settings  # noqa: E402

from tests.relevance_cases import RELEVANCE  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.graph import suggestions  # noqa: E402
from webapp.search import service  # noqa: E402
from webapp.search.query import parse  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_relevance"
DEPTH = 10


def ranks(engine: str, folder: Path, postgres: str) -> list[int | None]:
    """The expected answer's rank (1-based) among the first 10 hits of each case, or None."""
    config = settings(engine, folder, postgres)
    if engine == "postgres":
        recreate_database(postgres)
    app = create_app(config)
    found = []
    try:
        with app.app_context():
            assert app.extensions["search"].name == engine
            db.create_all()
            report = import_folder(db.session, ROOT / "content" / "demo")
            assert not report.rejected, report.rejected
            suggestions.refresh(db.session)
            db.session.remove()
        for query, expected in RELEVANCE:
            with app.app_context():
                page = service.search(db.session, parse(query))
                paths = [f"/q/{hit.slug}" for hit in page.hits[:DEPTH]]
            found.append(paths.index(expected) + 1 if expected in paths else None)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if engine == "postgres":
            drop_database(postgres)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_RELEVANCE", POSTGRES),
                        help="scratch PostgreSQL database (dropped and created again)")
    args = parser.parse_args()
    engines = list(dict.fromkeys(args.engines))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        results = {engine: ranks(engine, Path(tmp), args.postgres) for engine in engines}
    cases = len(RELEVANCE)
    lines = [f"| engine | expected answer in top 3 (of {cases}) | MRR over the first {DEPTH} hits |",
             "|---|---:|---:|"]
    for engine, found in results.items():
        top3 = sum(1 for r in found if r is not None and r <= 3)
        mrr = sum(1 / r for r in found if r is not None) / cases
        lines.append(f"| {LABELS[engine]} | {top3} | {mrr:.3f} |")
    lines += ["", "| query | expected | " + " | ".join(f"{LABELS[e]} rank" for e in results) + " |",
              "|---|---|" + "---:|" * len(results)]
    for n, (query, expected) in enumerate(RELEVANCE):
        cells = " | ".join(str(results[e][n] or f"> {DEPTH}") for e in results)
        lines.append(f"| {query} | {expected} | {cells} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
