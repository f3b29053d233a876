"""Search at scale: index build, size, query latency, edit visibility and memory,
with SQLite FTS5 over the same documents in the same run as the baseline.

    .venv/bin/python bench/search.py [--sizes 10000 100000] [--queries 100] [--record]

Each size gets a fresh SQLite database and index in a temporary folder, filled by the
same generator as `flask demo synth`. Whoosh queries go through `service.search`, the
code path of the /search page (ranking, facets, highlighted snippets, did-you-mean);
FTS5 queries rank with bm25 and build snippets with snippet(). Query kinds are run
interleaved, Whoosh and FTS5 alternating, so machine noise hits both alike."""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.answers.models import Question  # noqa: E402
from webapp.content import synth  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.search import service, sync  # noqa: E402
from webapp.search.documents import all_documents  # noqa: E402
from webapp.search.query import parse  # noqa: E402

FTS_COLUMNS = ("question", "content")
KINDS = ("1 term", "2 terms", "3 terms", "phrase")


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def make_app(folder: Path):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
        "SEARCH_INDEX_DIR": str(folder / "index"), "SEARCH_REBUILD_IN_BACKGROUND": False,
    })
    with app.app_context():
        db.create_all()
    return app


def build_fts(folder: Path, engine) -> tuple[sqlite3.Connection, float]:
    connection = sqlite3.connect(folder / "fts.db")
    connection.execute(f"create virtual table fts using fts5(slug unindexed, {', '.join(FTS_COLUMNS)}, "
                       "tokenize='porter unicode61 remove_diacritics 2')")
    start = time.perf_counter()
    with Session(engine) as session:
        rows = ((d["slug"], *(d[c] for c in FTS_COLUMNS)) for d in all_documents(session))
        connection.executemany(f"insert into fts values (?{', ?' * len(FTS_COLUMNS)})", rows)
    connection.commit()
    return connection, time.perf_counter() - start


def fts_search(connection: sqlite3.Connection, words: list[str], phrase: bool) -> list:
    match = '"' + " ".join(words) + '"' if phrase else " OR ".join(words)
    return connection.execute(
        "select slug, snippet(fts, 2, '<mark>', '</mark>', '…', 24) from fts where fts match ? "
        "order by bm25(fts, 0.0, 3.0, 1.0) limit 10", (match,)).fetchall()


def queries(session: Session, count: int, seed: int = 7) -> dict[str, list[tuple[str, list[str]]]]:
    """Words as readers type them: content words, not the corpus's most frequent ~100
    (which behave like stop words: each is in 70-90% of documents). Query words are
    drawn by Zipf rank 100-20,000 (document frequency about 25% down to 0.1%); phrases
    are two neighbouring words of a real summary, neither of them among the top 100."""
    rng = random.Random(seed)
    ranked = synth.Corpus(seed=1).words  # the generator's vocabulary, most frequent first
    common = set(ranked[:100])
    texts = session.scalars(select(Question.summary).where(Question.summary != "").limit(2000)).all()
    made: dict[str, list] = {kind: [] for kind in KINDS}
    for _ in range(count):
        for n, kind in ((1, "1 term"), (2, "2 terms"), (3, "3 terms")):
            picked = [ranked[int(100 * (200 ** rng.random()))] for _ in range(n)]  # log-uniform rank
            made[kind].append((" ".join(picked), picked))
        while True:
            sentence = [w.strip(".").lower() for w in rng.choice(texts).split() if not w.startswith("[")]
            pairs = [(a, b) for a, b in itertools.pairwise(sentence) if a not in common and b not in common]
            if pairs:
                break
        pair = list(rng.choice(pairs))
        made["phrase"].append((f'"{pair[0]} {pair[1]}"', pair))
    return made


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


def latency(app, connection, made) -> dict[str, dict[str, list[float]]]:
    index = app.extensions["search_index"]
    found = {kind: {"whoosh": [], "fts5": []} for kind in KINDS}
    with app.app_context():
        for position in range(len(made["1 term"])):
            for kind in KINDS:
                text, words = made[kind][position]
                start = time.perf_counter()
                page = service.search(index, db.session, parse(text))
                found[kind]["whoosh"].append((time.perf_counter() - start) * 1000)
                assert not page.unavailable
                start = time.perf_counter()
                fts_search(connection, words, kind == "phrase")
                found[kind]["fts5"].append((time.perf_counter() - start) * 1000)
    return found


def edit_visibility(app, rounds: int = 20) -> list[float]:
    """Milliseconds from the start of an edit's commit until search finds the new word."""
    index = app.extensions["search_index"]
    times = []
    with app.app_context():
        ids = db.session.scalars(select(Question.id).limit(rounds)).all()
        for n, qid in enumerate(ids):
            word = f"zqxedit{n}"
            question = db.session.get(Question, qid)
            question.summary = f"{question.summary} {word}"
            start = time.perf_counter()
            db.session.commit()  # drains the outbox into the index
            page = service.search(index, db.session, parse(word))
            times.append((time.perf_counter() - start) * 1000)
            assert page.total == 1, word
    return times


WORKER_MEMORY = """
import resource, sys
sys.path.insert(0, {root!r})
from webapp import create_app
from webapp.extensions import db
from webapp.search import service
from webapp.search.query import parse
app = create_app({{"SQLALCHEMY_DATABASE_URI": {db!r}, "SECRET_KEY": "x", "SEARCH_INDEX_DIR": {index!r}}})
with app.app_context():
    for text in {texts!r}:
        service.search(app.extensions["search_index"], db.session, parse(text))
print(int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024)
"""


def worker_memory(folder: Path, made) -> int:
    """RSS in MB of a fresh process that opened the index and answered 200 searches."""
    texts = [text for kind in KINDS for text, _ in made[kind][:50]]
    code = WORKER_MEMORY.format(root=str(ROOT), db=f"sqlite:///{folder / 'bench.db'}",
                                index=str(folder / "index"), texts=texts)
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def run(size: int, count: int) -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        app = make_app(folder)
        with app.app_context():
            start = time.perf_counter()
            synth.generate(db.session, size)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            sync.rebuild(app.extensions["search_index"], db.engine, procs=min(2, os.cpu_count() or 1))
            built = time.perf_counter() - start
            connection, fts_built = build_fts(folder, db.engine)
            made = queries(db.session, count)
        found = latency(app, connection, made)
        return dict(
            size=size, generated=generated, built=built, fts_built=fts_built,
            index_mb=folder_size(folder / "index") / 1e6, fts_mb=(folder / "fts.db").stat().st_size / 1e6,
            found=found, edit=edit_visibility(app), memory=worker_memory(folder, made),
        )


def table(results: list[dict]) -> str:
    lines = [f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{time.strftime('%Y-%m-%d')}.", "",
             "| questions | generate s | Whoosh build s | docs/s | FTS5 build s | Whoosh MB | FTS5 MB | edit visible p50 / max ms | worker RSS MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['size']:,} | {r['generated']:.0f} | {r['built']:.0f} | {r['size'] / r['built']:,.0f} | "
                     f"{r['fts_built']:.0f} | {r['index_mb']:,.0f} | {r['fts_mb']:,.0f} | "
                     f"{statistics.median(r['edit']):.0f} / {max(r['edit']):.0f} | {r['memory']} |")
    lines += ["", "| questions | query | Whoosh p50 ms | Whoosh p95 ms | FTS5 p50 ms | FTS5 p95 ms | p95 ratio |",
              "|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        for kind in KINDS:
            w, f = r["found"][kind]["whoosh"], r["found"][kind]["fts5"]
            lines.append(f"| {r['size']:,} | {kind} | {statistics.median(w):.1f} | {pct(w, 95):.1f} | "
                         f"{statistics.median(f):.1f} | {pct(f, 95):.1f} | {pct(w, 95) / pct(f, 95):.1f}× |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--record", action="store_true", help="append the tables to docs/performance.md")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        print(f"… {size:,} questions", file=sys.stderr)
        results.append(run(size, args.queries))
    output = table(results)
    print(output)
    if args.record:
        with open(ROOT / "docs" / "performance.md", "a") as doc:
            doc.write(f"\n### bench/search.py run\n\n{output}\n")


if __name__ == "__main__":
    main()
