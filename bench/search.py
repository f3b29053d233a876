"""Search at scale, engine by engine: rebuild, size, query latency, edit visibility and
memory, with SQLite FTS5 over the same documents in the same run as the baseline.

    .venv/bin/python bench/search.py [--sizes 10000 100000] [--queries 100]
                                     [--engines whoosh postgres] [--record] [--keep]

Each size gets, per engine, a fresh database filled by the same generator as
`flask demo synth` (the same seed, so the same questions): the Whoosh engine on a
SQLite database and index in a temporary folder (BENCH_TMP chooses where), the
PostgreSQL engine on a scratch database (`--postgres`, default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_search; dropped and created again
for each size, dropped at the end unless `--keep`). Each engine is rebuilt in full
(`flask search rebuild`'s code, timed); PostgreSQL then gets `VACUUM ANALYZE`
(`flask search optimize`, timed apart), the state autovacuum would leave it in.

Engine queries go through `webapp.search.service.search`, the /search page's code path,
twice: the whole results page (ranked top 10, the total and the category and status
counts, highlighted question and snippet, did-you-mean check: the page without
JavaScript) and the first results (`counts=False`: what htmx shows first). FTS5
(porter, diacritics removed, bm25 with the same field weights) answers only the ranked
top 10 with snippet(). Query kinds are interleaved, and the order of the engines and
FTS5 turns round every query, so machine noise hits all alike. A run warns if the
code under webapp/search changed while it ran."""
from __future__ import annotations

import argparse
import hashlib
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.answers.models import Question  # noqa: E402
from webapp.content import synth  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.search import service  # noqa: E402
from webapp.search.documents import all_documents  # noqa: E402
from webapp.search.query import parse  # noqa: E402

FTS_COLUMNS = ("question", "content")
KINDS = ("1 term", "2 terms", "3 terms", "phrase")
# What an engine query returns: the whole results page (ranked top 10, exact or capped
# counts, facets, headlines, did-you-mean: the page without JavaScript) and the first
# results (the same without counts and facets: what htmx shows first, asking for the
# counts in a second request).
MEASURES = {"whole page": {}, "first results": {"counts": False}}
ENGINES = ("whoosh", "postgres")
LABELS = {"whoosh": "Whoosh", "postgres": "PostgreSQL", "fts5": "FTS5"}
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_search"


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# --- the databases -----------------------------------------------------------------------

SERVER_DATABASES = {"postgres", "template0", "template1"}  # never emptied


def recreate_database(url: str) -> None:
    """Drop and create the scratch PostgreSQL database `url` names."""
    name = make_url(url).database
    if not name or not name.replace("_", "").isalnum() or name in SERVER_DATABASES:
        raise SystemExit(f"not a scratch database name: {name!r}")
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def drop_database(url: str) -> None:
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    server.dispose()


def settings(engine: str, folder: Path, postgres: str) -> dict:
    if engine == "whoosh":
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "SEARCH_ENGINE": "whoosh",
                "SEARCH_INDEX_DIR": str(folder / "index"), "SEARCH_REBUILD_IN_BACKGROUND": False,
                "SECRET_KEY": "bench"}
    return {"SQLALCHEMY_DATABASE_URI": postgres, "SEARCH_ENGINE": "postgres",
            # never used by this engine; set so nothing can touch the repository's folder
            "SEARCH_INDEX_DIR": str(folder / "unused-index"), "SEARCH_REBUILD_IN_BACKGROUND": False,
            "SECRET_KEY": "bench"}


@dataclass
class Subject:
    """One engine under test, with its app and what building it cost."""

    engine: str
    config: dict
    app: Flask = None
    generated: float = 0.0
    built: float = 0.0
    vacuumed: float | None = None
    size_mb: float = 0.0
    found: dict = field(default_factory=lambda: {(m, kind): [] for m in MEASURES for kind in KINDS})
    edit: list = field(default_factory=list)
    memory: int | None = None
    index: str = ""  # PostgreSQL: the access method of the tsvector index


def prepare(subject: Subject, size: int, folder: Path) -> None:
    if subject.engine == "postgres":
        recreate_database(subject.config["SQLALCHEMY_DATABASE_URI"])
    subject.app = app = create_app(subject.config)
    with app.app_context():
        assert app.extensions["search"].name == subject.engine
        db.create_all()  # PostgreSQL: the search tables too (a metadata listener)
        start = time.perf_counter()
        synth.generate(db.session, size)
        subject.generated = time.perf_counter() - start
        db.session.remove()
        engine = app.extensions["search"]
        start = time.perf_counter()
        engine.rebuild(procs=min(2, os.cpu_count() or 1))
        subject.built = time.perf_counter() - start
        if subject.engine == "postgres":
            start = time.perf_counter()
            engine.optimize()  # VACUUM ANALYZE: what autovacuum would do after a rebuild
            subject.vacuumed = time.perf_counter() - start
            subject.size_mb = db.session.scalar(text(
                "SELECT pg_total_relation_size('search_document') + pg_total_relation_size('search_word')")) / 1e6
            subject.index = db.session.scalar(text(
                "SELECT string_agg(DISTINCT am.amname, '+') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'search_document'::regclass AND a.attname = 'tsv'"))
        else:
            subject.size_mb = folder_size(folder / "index") / 1e6


# --- FTS5, the baseline ------------------------------------------------------------------

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


# --- the queries -------------------------------------------------------------------------

def queries(session: Session, count: int, seed: int = 7) -> dict[str, list[tuple[str, list[str]]]]:
    """Words as readers type them: content words, not the corpus's most frequent ~100
    (which behave like stop words: each is in 70-90% of documents). Query words are
    drawn by Zipf rank 100-20,000 (document frequency about 25% down to 0.1%); phrases
    are two neighbouring words of a real summary, neither of them among the top 100."""
    rng = random.Random(seed)
    ranked = synth.Corpus(seed=1).words  # the generator's vocabulary, most frequent first
    common = set(ranked[:100])
    texts = session.scalars(select(Question.summary).where(Question.summary != "")
                            .order_by(Question.id).limit(2000)).all()
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


def engine_search(app: Flask, text_: str, choices: dict) -> float:
    """Milliseconds for one results page, as a request makes it: its own app context
    and session (set up and torn down outside the timing)."""
    with app.app_context():
        start = time.perf_counter()
        page = service.search(db.session, parse(text_), **choices)
        took = (time.perf_counter() - start) * 1000
        assert not page.unavailable
    return took


def latency(subjects: list[Subject], connection: sqlite3.Connection, made) -> list[float]:
    """Every engine and FTS5 answer each query; the order turns round every query."""
    fts: dict[str, list[float]] = {kind: [] for kind in KINDS}
    runners = [*subjects, None]  # None: FTS5
    turn = 0
    for position in range(len(made["1 term"])):
        for kind in KINDS:
            text_, words = made[kind][position]
            turn += 1
            for runner in runners[turn % len(runners):] + runners[:turn % len(runners)]:
                if runner is None:
                    start = time.perf_counter()
                    fts_search(connection, words, kind == "phrase")
                    fts[kind].append((time.perf_counter() - start) * 1000)
                else:
                    for measure, choices in MEASURES.items():
                        runner.found[measure, kind].append(engine_search(runner.app, text_, choices))
    return fts


def edit_visibility(app: Flask, rounds: int = 20) -> list[float]:
    """Milliseconds from the start of an ORM edit's commit until search finds its new word."""
    times = []
    with app.app_context():
        ids = db.session.scalars(select(Question.id).order_by(Question.id).limit(rounds)).all()
    for n, qid in enumerate(ids):
        word = f"zqxedit{n}"
        with app.app_context():
            question = db.session.get(Question, qid)
            question.summary = f"{question.summary} {word}"
            start = time.perf_counter()
            db.session.commit()  # Whoosh: drains the outbox into the index; PostgreSQL: document written in it
            page = service.search(db.session, parse(word))
            times.append((time.perf_counter() - start) * 1000)
            assert page.total == 1, (word, page.total)
    return times


WORKER_MEMORY = """
import sys
sys.path.insert(0, {root!r})
from webapp import create_app
from webapp.extensions import db
from webapp.search import service
from webapp.search.query import parse
app = create_app({config!r})
for text in {texts!r}:
    with app.app_context():
        service.search(db.session, parse(text))
print(int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024)
"""


def worker_memory(config: dict, made) -> int | None:
    """RSS in MB of a fresh process that created the app and answered 200 searches
    (None, and its error shown, if it failed)."""
    texts = [text_ for kind in KINDS for text_, _ in made[kind][:50]]
    code = WORKER_MEMORY.format(root=str(ROOT), config=config, texts=texts)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        print(f"worker memory: the process failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return int(done.stdout)


# --- one size ----------------------------------------------------------------------------

def run(size: int, count: int, engines: list[str], postgres: str, keep: bool) -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        subjects = [Subject(engine, settings(engine, folder, postgres)) for engine in engines]
        try:
            for subject in subjects:
                print(f"  {size:,}: {subject.engine}: generate and rebuild", file=sys.stderr)
                prepare(subject, size, folder)
            first = subjects[0].app
            with first.app_context():
                connection, fts_built = build_fts(folder, db.engine)
                made = queries(db.session, count)
            print(f"  {size:,}: queries", file=sys.stderr)
            fts = latency(subjects, connection, made)
            connection.close()
            for subject in subjects:
                print(f"  {size:,}: {subject.engine}: edits and worker memory", file=sys.stderr)
                subject.edit = edit_visibility(subject.app)
                subject.memory = worker_memory(subject.config, made)
            return dict(size=size, subjects=subjects, fts=fts, fts_built=fts_built,
                        fts_mb=(folder / "fts.db").stat().st_size / 1e6)
        finally:
            for subject in subjects:
                if subject.app is not None:
                    with subject.app.app_context():
                        db.session.remove()
                        db.engine.dispose()
            if "postgres" in engines and not keep:
                drop_database(postgres)


def fingerprint() -> str:
    """A short hash of the search code, to tell whether it changed during a run."""
    digest = hashlib.sha1()
    for path in sorted((ROOT / "webapp" / "search").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"Machine: {os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, {platform.machine()}, "
            f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}.")


def table(results: list[dict]) -> str:
    lines = [machine(), "",
             "| questions | engine | generate s | full rebuild s | docs/s | index MB | edit visible p50 / max ms | worker RSS MB |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for s in r["subjects"]:
            vacuum = f" (+ {s.vacuumed:.0f} VACUUM)" if s.vacuumed is not None else ""
            name = f"{LABELS[s.engine]} ({s.index})" if s.index else LABELS[s.engine]
            lines.append(f"| {r['size']:,} | {name} | {s.generated:.0f} | {s.built:.0f}{vacuum} | "
                         f"{r['size'] / s.built:,.0f} | {s.size_mb:,.0f} | "
                         f"{statistics.median(s.edit):.0f} / {max(s.edit):.0f} | {s.memory or 'failed'} |")
        lines.append(f"| {r['size']:,} | FTS5 (baseline) | – | {r['fts_built']:.0f} | {r['size'] / r['fts_built']:,.0f} | "
                     f"{r['fts_mb']:,.0f} | – | – |")
    names = [s.engine for s in results[0]["subjects"]]
    # Not equal work: the engine's answer against FTS5's ranked top 10 with snippet()
    # alone (no counts, facets, highlighted question or did-you-mean); the header says so.
    head = "| questions | query | engine's answer |" + "".join(
        f" {LABELS[n]} p50 ms | {LABELS[n]} p95 ms | p95 / FTS5 top 10 |" for n in names) + (
        " FTS5 top 10 + snippet p50 ms | FTS5 top 10 + snippet p95 ms |")
    lines += ["", head, "|---:|---|---|" + "---:|---:|---:|" * len(names) + "---:|---:|"]
    for r in results:
        for kind in KINDS:
            f = r["fts"][kind]
            for measure in MEASURES:
                cells = "".join(f" {statistics.median(s.found[measure, kind]):.1f} | {pct(s.found[measure, kind], 95):.1f} | "
                                f"{pct(s.found[measure, kind], 95) / pct(f, 95):.1f}× |" for s in r["subjects"])
                lines.append(f"| {r['size']:,} | {kind} | {measure} |{cells} {statistics.median(f):.1f} | {pct(f, 95):.1f} |")
    if results[0].get("changed"):
        lines += ["", f"**webapp/search changed during this run** ({results[0]['changed']}): "
                  "the figures may mix two versions of the engines."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", POSTGRES),
                        help="scratch PostgreSQL database (dropped and created again)")
    parser.add_argument("--keep", action="store_true", help="leave the last size's PostgreSQL database")
    parser.add_argument("--record", action="store_true", help="append the tables to docs/performance.md")
    args = parser.parse_args()
    engines = list(dict.fromkeys(args.engines))
    code = fingerprint()
    print(f"webapp/search code {code}", file=sys.stderr)
    results = []
    for size in args.sizes:
        print(f"… {size:,} questions", file=sys.stderr)
        results.append(run(size, args.queries, engines, args.postgres, args.keep))
        print(table(results[-1:]), file=sys.stderr)
    if fingerprint() != code:
        results[0]["changed"] = f"{code} at the start, {fingerprint()} at the end"
    output = table(results)
    print(output)
    if args.record:
        with open(ROOT / "docs" / "performance.md", "a") as doc:
            doc.write(f"\n### bench/search.py run\n\n{output}\n")


if __name__ == "__main__":
    main()
