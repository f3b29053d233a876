"""Search relevance on the demo content, engine by engine, by words alone and by words
and meaning (hybrid): how many cases find their expected answer in the top 3, and the
mean reciprocal rank over the first 10 hits, for two suites: the relevance cases in
tests/relevance_cases.py (a reader's words, mostly the answer's own) and the
paraphrases in tests/paraphrase_cases.py (a reader's own words, few of the answer's).

    .venv/bin/python bench/relevance.py [--engines whoosh postgres] [--floor 0.5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_relevance]

Whoosh runs on a SQLite database and index in a temporary folder (BENCH_TMP chooses
where); PostgreSQL on a scratch database, dropped and created again, dropped at the
end. Each gets `flask content import content/demo`'s work (import, then the suggested
related questions), then every case goes through `webapp.search.service.search`, once
with SEARCH_MEANING off and once on."""
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

from tests.paraphrase_cases import PARAPHRASES  # noqa: E402
from tests.relevance_cases import RELEVANCE  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.graph import suggestions  # noqa: E402
from webapp.search import hybrid, service  # noqa: E402
from webapp.search.query import parse  # noqa: E402

SUITES = {"relevance": RELEVANCE, "paraphrases": PARAPHRASES}
MODES = {"words": False, "hybrid": True}
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_relevance"
DEPTH = 10


def ranks(engine: str, folder: Path, postgres: str, floor: float | None) -> dict[tuple[str, str], list[int | None]]:
    """For each suite and mode, the expected answer's rank (1-based) among the first 10
    hits of each case, or None."""
    config = settings(engine, folder, postgres) | {"SEARCH_MEANING_REFRESH": 0.0}
    if floor is not None:
        config["SEARCH_MEANING_FLOOR"] = floor
    if engine == "postgres":
        recreate_database(postgres)
    app = create_app(config)
    found: dict[tuple[str, str], list[int | None]] = {}
    try:
        with app.app_context():
            assert app.extensions["search"].name == engine
            db.create_all()
            report = import_folder(db.session, ROOT / "content" / "demo")
            assert not report.rejected, report.rejected
            suggestions.refresh(db.session)
            db.session.remove()
        for mode, meaning in MODES.items():
            app.config["SEARCH_MEANING"] = meaning
            for suite, cases in SUITES.items():
                found[suite, mode] = ranked = []
                for query, expected in cases:
                    with app.app_context():
                        page = service.search(db.session, parse(query))
                        paths = [f"/q/{hit.slug}" for hit in page.hits[:DEPTH]]
                    ranked.append(paths.index(expected) + 1 if expected in paths else None)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if engine == "postgres":
            drop_database(postgres)
    return found


def scores(found: list[int | None]) -> tuple[int, float]:
    """(in the top 3, mean reciprocal rank)"""
    return sum(1 for r in found if r is not None and r <= 3), sum(1 / r for r in found if r is not None) / len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_RELEVANCE", POSTGRES),
                        help="scratch PostgreSQL database (dropped and created again)")
    parser.add_argument("--floor", type=float, help="SEARCH_MEANING_FLOOR to try (default: the setting's)")
    parser.add_argument("--weight", type=float, help="hybrid.MEANING_WEIGHT to try (default: the module's)")
    args = parser.parse_args()
    if args.weight is not None:
        hybrid.MEANING_WEIGHT = args.weight
    engines = list(dict.fromkeys(args.engines))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        results = {engine: ranks(engine, Path(tmp), args.postgres, args.floor) for engine in engines}
    lines = ["| engine | suite | words: top 3 | words: MRR | hybrid: top 3 | hybrid: MRR |",
             "|---|---|---:|---:|---:|---:|"]
    for engine, found in results.items():
        for suite, cases in SUITES.items():
            cells = []
            for mode in MODES:
                top3, mrr = scores(found[suite, mode])
                cells += [f"{top3} of {len(cases)}", f"{mrr:.3f}"]
            lines.append(f"| {LABELS[engine]} | {suite} | " + " | ".join(cells) + " |")
    for suite, cases in SUITES.items():
        columns = [(e, m) for e in results for m in MODES]
        lines += ["", f"{suite}:", "",
                  "| query | expected | " + " | ".join(f"{LABELS[e]} {m}" for e, m in columns) + " |",
                  "|---|---|" + "---:|" * len(columns)]
        for n, (query, expected) in enumerate(cases):
            cells = " | ".join(str(results[e][suite, m][n] or f"> {DEPTH}") for e, m in columns)
            lines.append(f"| {query} | {expected} | {cells} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
