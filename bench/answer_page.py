"""Answer page: bytes on the wire, and server time against a baseline in the same run.

    .venv/bin/python bench/answer_page.py [--rounds 300] [--accept-encoding identity]

Uses a throw-away SQLite database and search index with the demo content (a temporary
folder; BENCH_TMP chooses where), in-process (Flask's test client), so it measures
Plumb's own work and not the network. The baseline is `/healthz` (one `select 1`),
measured interleaved with the pages, so a busy machine slows both and the ratio stays
comparable between runs. Each request is timed twice: by the wall clock, and by the CPU
time this process spent on it, which other programs on a shared machine disturb far
less. Issue 12's target: the answer and unanswered pages at most 3× `/healthz`.

The pages are read by one reader (one cookie jar) that goes from one to the next, as a
reader does: the cached bodies are warm, the reader's path, counts and ask are not
cached. Requests accept brotli and gzip, as browsers do, unless --accept-encoding says
otherwise (`identity`: no compression)."""
from __future__ import annotations

import argparse
import json
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
# The built files pages name (frontend/build.mjs writes the manifest at `make setup`).
ASSETS = ["/static/" + built for built in json.loads((ROOT / "static" / "build" / "manifest.json").read_text()).values()]


def make_client(folder: Path):
    # Everything in FOLDER: the default SEARCH_INDEX_DIR is the repository's search_index/.
    # The index is built before the first timing, not in a thread beside it.
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
                      "SEARCH_ENGINE": "whoosh", "SEARCH_INDEX_DIR": str(folder / "index"),
                      "SEARCH_REBUILD_IN_BACKGROUND": False, "STATIC_AUTOREFRESH": False})
    with app.app_context():
        db.create_all()
        import_folder(db.session, ROOT / "content" / "demo")
    return app.test_client()


def weight(client) -> list[tuple[str, int, int, str]]:
    """Each asset's body uncompressed, and as served to a browser that accepts br and gzip."""
    rows = []
    for url in ["/q/why-is-the-sky-blue", *ASSETS]:
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        served = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert plain.status_code == 200 and served.status_code == 200, (url, plain.status_code, served.status_code)
        rows.append((url, len(plain.data), len(served.data), served.headers.get("Content-Encoding", "none")))
        for response in (plain, served):
            response.close()
    return rows


TARGETS = {"answer page": 3.0, "unanswered page": 3.0}  # at most this many times /healthz (issue 12)


def timings(client, rounds: int, encoding: str | None) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per request, by wall clock and by this process's CPU time."""
    found = {name: {"wall": [], "cpu": []} for name in PAGES}
    for _ in range(rounds):
        for name, url in PAGES.items():  # interleaved: noise hits every row alike
            headers = {"HX-Request": "true"} if "htmx" in name else {}
            if encoding:
                headers["Accept-Encoding"] = encoding
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, headers=headers)
            response.get_data()
            found[name]["cpu"].append((time.process_time() - start_cpu) * 1000)
            found[name]["wall"].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return found


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--accept-encoding", default="br, gzip", help='"br, gzip" (as browsers send) or "identity"')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        client = make_client(Path(folder))
        for _ in range(20):  # warm caches and Jinja's compiled templates
            for url in PAGES.values():
                client.get(url)
        rows = weight(client)
        found = timings(client, args.rounds, args.accept_encoding)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
          f"load {os.getloadavg()[0]:.1f} · Python {platform.python_version()} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · commit {commit.strip() or 'unknown'}\n")
    print("| answer page asset (test client) | bytes uncompressed | bytes served (br, gzip accepted) | encoding |\n"
          "|---|---:|---:|---|")
    for url, raw, packed, encoding in rows:
        print(f"| {url} | {raw:,} | {packed:,} | {encoding} |")
    print(f"| **total** | **{sum(r[1] for r in rows):,}** | **{sum(r[2] for r in rows):,}** | |\n")
    base = {clock: statistics.median(found["baseline /healthz"][clock]) for clock in ("wall", "cpu")}
    print(f"| request ({args.rounds} rounds, Accept-Encoding: {args.accept_encoding or 'none'}) | p50 ms | p95 ms "
          f"| p50 / baseline | CPU p50 ms | CPU p50 / baseline | target |\n|---|---:|---:|---:|---:|---:|---|")
    for name, times in found.items():
        wall, cpu = statistics.median(times["wall"]), statistics.median(times["cpu"])
        target = TARGETS.get(name)
        verdict = "" if target is None else (
            f"≤ {target:g}×: {'met' if max(wall / base['wall'], cpu / base['cpu']) <= target else 'NOT met'}")
        print(f"| {name} | {wall:.2f} | {percentile(times['wall'], 95):.2f} | {wall / base['wall']:.1f}× "
              f"| {cpu:.2f} | {cpu / base['cpu']:.1f}× | {verdict} |")


if __name__ == "__main__":
    main()
