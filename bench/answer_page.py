"""Answer page: bytes on the wire, and render time against a baseline in the same run.

    .venv/bin/python bench/answer_page.py [--rounds 300]

Uses a throw-away SQLite database and search index with the demo content (a temporary
folder; BENCH_TMP chooses where), in-process (Flask's test client), so it measures
Plumb's own work and not the network. Bytes are the bodies as served: the app
compresses nothing, so "gzip -6" is only what compression would make of them. The baseline is
`/healthz` (one `select 1`), measured interleaved with the pages, so a busy machine
slows both and the ratio stays comparable between runs."""
from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from webapp.extensions import db  # noqa: E402

PAGES = {
    "baseline /healthz": "/healthz",
    "answer page": "/q/why-is-the-sky-blue",
    "section fragment (htmx)": "/q/why-is-the-sky-blue/sections/2",
    "home": "/",
    "category page": "/c/science",
    "unanswered page": "/q/how-fast-can-an-ostrich-run",
}
ASSETS = ["/static/vendor/pico.min.css", "/static/css/plumb.css", "/static/vendor/htmx.min.js", "/static/js/plumb.js"]


def make_client(folder: Path):
    # Everything in FOLDER: the default SEARCH_INDEX_DIR is the repository's search_index/.
    # The index is built before the first timing, not in a thread beside it.
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
                      "SEARCH_ENGINE": "whoosh", "SEARCH_INDEX_DIR": str(folder / "index"),
                      "SEARCH_REBUILD_IN_BACKGROUND": False})
    with app.app_context():
        db.create_all()
        import_folder(db.session, ROOT / "content" / "demo")
    return app.test_client()


def weight(client) -> list[tuple[str, int, int]]:
    """Each asset's body as served (checked uncompressed), and its size after gzip -6."""
    rows = []
    for url in ["/q/why-is-the-sky-blue", *ASSETS]:
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and "Content-Encoding" not in response.headers, (url, response.headers)
        body = response.data
        rows.append((url, len(body), len(gzip.compress(body, 6))))
    return rows


def timings(client, rounds: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {name: [] for name in PAGES}
    headers = {"HX-Request": "true"}
    for _ in range(rounds):
        for name, url in PAGES.items():  # interleaved: noise hits every row alike
            start = time.perf_counter()
            response = client.get(url, headers=headers if "htmx" in name else None)
            found[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return found


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        client = make_client(Path(folder))
        for _ in range(20):  # warm caches and Jinja's compiled templates
            for url in PAGES.values():
                client.get(url)
        rows = weight(client)
        found = timings(client, args.rounds)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()} · "
          f"{time.strftime('%Y-%m-%d')} · commit {commit.strip() or 'unknown'}\n")
    print("| answer page asset (test client) | bytes served (uncompressed) | if gzipped (-6; not served) |\n"
          "|---|---:|---:|")
    for url, raw, packed in rows:
        print(f"| {url} | {raw:,} | {packed:,} |")
    print(f"| **total** | **{sum(r[1] for r in rows):,}** | **{sum(r[2] for r in rows):,}** |\n")
    base = statistics.median(found["baseline /healthz"])
    print(f"| request ({args.rounds} rounds) | p50 ms | p95 ms | p50 / baseline |\n|---|---:|---:|---:|")
    for name, values in found.items():
        p50 = statistics.median(values)
        print(f"| {name} | {p50:.2f} | {percentile(values, 95):.2f} | {p50 / base:.1f}× |")


if __name__ == "__main__":
    main()
