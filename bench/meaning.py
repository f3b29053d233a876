"""Search by meaning (issue 17) at scale: what the vectors cost to build, to hold and to
search with, against search by words alone in the same run.

    .venv/bin/python bench/meaning.py [--size 100000] [--queries 200] [--engines postgres whoosh]

Each engine gets a fresh corpus from `flask demo synth`'s generator (the same seed, so
the same questions): the PostgreSQL engine on the scratch database bench_meaning
(dropped and created again, dropped at the end), the Whoosh engine on SQLite in a
temporary folder (BENCH_TMP chooses where). Then, per engine:

- Build: the engine's own full rebuild (2 processes), which writes the vectors as well
  as the documents; PostgreSQL then gets `VACUUM ANALYZE` of the documents and the
  vectors (what autovacuum would do; timed apart). Apart from it, the model's own
  cost: `model.embed` over the first 5,000 questions' `document_text`, 500 a batch.
- Latency: `service.search` (the /search page's code) for 1, 2 and 3 corpus words
  (drawn as bench/search.py draws them) and for 2-4 words of a reader's paraphrase
  (tests/paraphrase_cases.py: English, so they match few of the synthetic corpus's
  made-up words; the case where meaning has to fill the page). Each query is run by
  words alone (`SEARCH_MEANING` False, the baseline) and hybrid (True), whole page and
  first results (`counts=False`), the order of the two turning round every query. The
  vectors are re-read as a server would (`SEARCH_MEANING_REFRESH`, default 2 s), so
  those re-reads are in the hybrid figures; how many and how long is said apart.
- Memory: a fresh process (a worker) creates the app and searches by words, then loads
  the model, then answers its first hybrid search (which loads the codes): VmRSS after
  each step, and what `Nearest` holds (its nbytes).
- The nearest step alone: `lookup.near_text` (embed + nearest codes + their vectors
  scored, top 20), and
  its two parts, without re-reads.

The synthetic corpus's words are made up, so what is found by meaning here says
nothing about quality (bench/relevance.py measures that on the demo content); only
the costs count. A run warns if the code under webapp/search changed while it ran."""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
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
from sqlalchemy import func, select, text  # noqa: E402

from bench.search import drop_database, fingerprint, machine, recreate_database, settings  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.clock import utcnow  # noqa: E402
from webapp.content import synth  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.search import hybrid, service  # noqa: E402
from webapp.search.documents import all_documents, texts  # noqa: E402
from webapp.search.meaning import lookup, model, nearest  # noqa: E402
from webapp.search.meaning.models import QuestionMeaning  # noqa: E402
from webapp.search.query import STOP_WORDS, WORD, parse  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_meaning"  # the only database this touches
ENGINES = ("postgres", "whoosh")
LABELS = {"whoosh": "Whoosh on SQLite", "postgres": "PostgreSQL"}
KINDS = ("1 word", "2 words", "3 words", "paraphrase (2-4 words)")
MEASURES = {"whole page": True, "first results": False}  # counts=
MODES = ("words", "hybrid")
EMBED_DOCS, EMBED_BATCH = 5000, 500
REFRESH = 2.0  # SEARCH_MEANING_REFRESH, its default: seconds between re-reads
TARGET = 1.3  # issue 17: hybrid p95 at most 1.3 times words alone


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


@dataclass
class Result:
    engine: str
    size: int
    generated: float = 0.0
    built: float = 0.0
    vacuumed: float | None = None
    model_load: float | None = None
    embed_ms_per_doc: float = 0.0
    embed_batches: list[float] = field(default_factory=list)  # ms per document, batch by batch
    embed_chars: float = 0.0
    rows: int = 0
    vectors: int = 0
    table_mb: float | None = None
    first_hybrid: float = 0.0  # ms, this process: the codes loaded on the way
    full_load: list[float] = field(default_factory=list)  # ms: every vector read, its code kept
    refresh_early: tuple = ()  # (ms p50, rows re-read, seconds since the newest vector)
    refresh_late: tuple = ()
    found: dict = field(default_factory=lambda: {(mode, m, k): [] for mode in MODES for m in MEASURES
                                                 for k in KINDS})
    with_refresh: dict = field(default_factory=lambda: {(m, k): [] for m in MEASURES for k in KINDS})
    meaning_only: dict = field(default_factory=lambda: {k: 0 for k in KINDS})  # hybrid whole pages with one
    words_empty: dict = field(default_factory=lambda: {k: 0 for k in KINDS})  # words-alone whole pages with none
    refreshes: list[float] = field(default_factory=list)  # ms of each re-read during the latency run
    embed_one: list[float] = field(default_factory=list)
    product: list[float] = field(default_factory=list)
    near_text: list[float] = field(default_factory=list)
    worker: dict | None = None


# --- building ----------------------------------------------------------------------------

def every(step: int, label: str):
    done = [0]

    def progress(n: int) -> None:
        before, done[0] = done[0], done[0] + n
        if before // step != done[0] // step:
            log(f"  {label}: {done[0]:,}")
    return progress


def build(result: Result, config: dict) -> Flask:
    if result.engine == "postgres":
        recreate_database(config["SQLALCHEMY_DATABASE_URI"])
    app = create_app(config)
    with app.app_context():
        assert app.extensions["search"].name == result.engine
        db.create_all()  # the search tables and question_meaning too
        log(f"{result.engine}: generating {result.size:,} questions")
        start = time.perf_counter()
        synth.generate(db.session, result.size, progress=every(20_000, "generated"))
        result.generated = time.perf_counter() - start
        db.session.remove()
        log(f"{result.engine}: rebuilding (documents and vectors)")
        engine = app.extensions["search"]
        start = time.perf_counter()
        engine.rebuild(procs=min(2, os.cpu_count() or 1), progress=every(20_000, "rebuilt"))
        result.built = time.perf_counter() - start
        if result.engine == "postgres":
            start = time.perf_counter()
            engine.optimize()  # VACUUM ANALYZE search_document and search_word
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE question_meaning"))
            result.vacuumed = time.perf_counter() - start
        result.rows = db.session.scalar(select(func.count()).select_from(QuestionMeaning))
        result.vectors = db.session.scalar(select(func.count()).select_from(QuestionMeaning)
                                           .where(QuestionMeaning.vector.is_not(None)))
        result.table_mb = table_mb(result.engine)
    return app


def table_mb(engine: str) -> float | None:
    if engine == "postgres":
        return db.session.scalar(text("SELECT pg_total_relation_size('question_meaning')")) / 1e6
    try:  # SQLite: its pages, where the dbstat table is compiled in
        return db.session.scalar(text(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'question_meaning' "
            "OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'question_meaning')")) / 1e6
    except Exception:  # noqa: BLE001 - no dbstat: the stored bytes alone, a lower bound
        db.session.rollback()
        return None


def embedding(result: Result, app: Flask) -> None:
    """The model alone, over real documents' texts: ms per document."""
    with app.app_context():
        if model._model is None:
            start = time.perf_counter()
            model.embed(["warm up"])
            result.model_load = time.perf_counter() - start
        documents = [model.document_text(t) for t in
                     itertools.islice(all_documents(db.session, build=texts), EMBED_DOCS)]
        db.session.remove()
    result.embed_chars = statistics.mean(len(d) for d in documents)
    start = time.perf_counter()
    for at in range(0, len(documents), EMBED_BATCH):
        batch = documents[at : at + EMBED_BATCH]
        began = time.perf_counter()
        model.embed(batch)
        result.embed_batches.append((time.perf_counter() - began) * 1000 / len(batch))
    result.embed_ms_per_doc = (time.perf_counter() - start) * 1000 / len(documents)


# --- the queries -------------------------------------------------------------------------

def paraphrases() -> list[list[str]]:
    from tests.paraphrase_cases import PARAPHRASES

    found = []
    for sentence, _answer in PARAPHRASES:
        words = [w for w in WORD.findall(sentence.lower()) if w not in STOP_WORDS and len(w) > 2]
        if len(words) >= 2:
            found.append(words)
    return found


def make_queries(count: int, seed: int = 17) -> dict[str, list[str]]:
    """Corpus words as bench/search.py draws them (Zipf rank 100-20,000, log-uniform:
    not the ~100 that are in most documents), and runs of 2-4 words of a paraphrase."""
    rng = random.Random(seed)
    ranked = synth.Corpus(seed=1).words
    english = paraphrases()
    made: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for _ in range(count):
        for n, kind in zip((1, 2, 3), KINDS, strict=False):
            made[kind].append(" ".join(ranked[int(100 * (200 ** rng.random()))] for _ in range(n)))
        words = rng.choice(english)
        n = rng.randint(2, min(4, len(words)))
        at = rng.randrange(len(words) - n + 1)
        made[KINDS[3]].append(" ".join(words[at : at + n]))
    return made


# --- measuring ---------------------------------------------------------------------------

def one_search(app: Flask, query: str, mode: str, counts: bool):
    """(ms, page) for one search as a request makes it: its own app context and session."""
    app.config["SEARCH_MEANING"] = mode == "hybrid"
    with app.app_context():
        start = time.perf_counter()
        page = service.search(db.session, parse(query), counts=counts)
        took = (time.perf_counter() - start) * 1000
        assert not page.unavailable, query
    return took, page


def refresh_figures(app: Flask, rounds: int = 5) -> tuple[float, int, float]:
    """A look for changes when nothing changed: (ms p50, rows in the window it looks at
    again, changed_at after its previous look began less nearest.OVERLAP; seconds since
    the newest vector was written)."""
    with app.app_context():
        held: nearest.Nearest = app.extensions["meaning"]
        since = held.last_look - nearest.OVERLAP
        again = db.session.scalar(select(func.count()).select_from(QuestionMeaning)
                                  .where(QuestionMeaning.changed_at > since))
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            held.refresh(db.session, 0.0)
            times.append((time.perf_counter() - start) * 1000)
        age = db.session.scalar(select(func.max(QuestionMeaning.changed_at)))
        return statistics.median(times), again, (utcnow() - age).total_seconds()


def warm_up(result: Result, app: Flask, made: dict[str, list[str]]) -> None:
    log(f"{result.engine}: warming up")
    for kind in KINDS:
        for query in made[kind][-10:]:
            for counts in MEASURES.values():
                one_search(app, query, "words", counts)
    result.first_hybrid, _page = one_search(app, made[KINDS[1]][-1], "hybrid", True)
    with app.app_context():
        for _ in range(3):  # every vector read and coded afresh, as the first search did
            start = time.perf_counter()
            nearest.Nearest().refresh(db.session, 0.0)
            result.full_load.append((time.perf_counter() - start) * 1000)
    result.refresh_early = refresh_figures(app)
    for kind in KINDS:
        for query in made[kind][-10:]:
            for counts in MEASURES.values():
                one_search(app, query, "hybrid", counts)


def watch_refreshes(app: Flask, result: Result) -> None:
    """Time each re-read of the vectors that hybrid searches set off."""
    held: nearest.Nearest = app.extensions["meaning"]
    original = held.refresh

    def refresh(session, every_: float) -> None:
        before = held.looked_at
        start = time.perf_counter()
        original(session, every_)
        if held.looked_at != before:
            result.refreshes.append((time.perf_counter() - start) * 1000)
    held.refresh = refresh


def latency(result: Result, app: Flask, made: dict[str, list[str]]) -> None:
    log(f"{result.engine}: latency, {len(made[KINDS[0]])} queries of each kind, words and hybrid")
    watch_refreshes(app, result)
    turn = 0
    count = len(made[KINDS[0]])
    for position in range(count):
        if position and position % 50 == 0:
            log(f"  {position}/{count}")
        for kind in KINDS:
            query = made[kind][position]
            turn += 1
            modes = MODES if turn % 2 else MODES[::-1]
            for measure, counts in MEASURES.items():
                for mode in modes:
                    seen = len(result.refreshes)
                    took, page = one_search(app, query, mode, counts)
                    result.found[mode, measure, kind].append(took)
                    if mode == "hybrid":
                        result.with_refresh[measure, kind].append(len(result.refreshes) > seen)
                        if counts and any(h.by_meaning for h in page.hits):
                            result.meaning_only[kind] += 1
                    elif counts and not page.total:
                        result.words_empty[kind] += 1
    app.config["SEARCH_MEANING"] = True
    del app.extensions["meaning"].refresh  # the class's own again


def nearest_step(result: Result, app: Flask, made: dict[str, list[str]]) -> None:
    """lookup.near_text and its parts, with re-reads held off."""
    log(f"{result.engine}: the nearest step alone")
    app.config["SEARCH_MEANING"] = True
    every_ = app.config.get("SEARCH_MEANING_REFRESH", 2.0)
    queries = [q for kind in KINDS for q in made[kind]]
    with app.app_context():
        held: nearest.Nearest = app.extensions["meaning"]
        held.refresh(db.session, 0.0)
        app.config["SEARCH_MEANING_REFRESH"] = 1e9
        try:
            for query in queries[:50]:  # warm
                lookup.near_text(db.session, query, hybrid.NEAR)
            for query in queries:
                start = time.perf_counter()
                vector = model.embed([query])[0]
                middle = time.perf_counter()
                held.near(db.session, vector, hybrid.NEAR)
                result.embed_one.append((middle - start) * 1000)
                result.product.append((time.perf_counter() - middle) * 1000)
                start = time.perf_counter()
                lookup.near_text(db.session, query, hybrid.NEAR)
                result.near_text.append((time.perf_counter() - start) * 1000)
        finally:
            app.config["SEARCH_MEANING_REFRESH"] = every_


WORKER = """
import json, sys, time
sys.path.insert(0, {root!r})
def rss():
    status = open("/proc/self/status").read()
    return {{k: int(status.split(k + ":")[1].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}}
from webapp import create_app
from webapp.extensions import db
from webapp.search import service
from webapp.search.meaning import model
from webapp.search.query import parse
app = create_app({config!r})
app.config["SEARCH_MEANING"] = False
for text in {texts!r}:
    with app.app_context():
        service.search(db.session, parse(text))
found = {{"words": rss(), "searches": len({texts!r})}}
start = time.perf_counter()
model.embed(["warm up"])
found["model_s"] = time.perf_counter() - start
found["model"] = rss()
app.config["SEARCH_MEANING"] = True
with app.app_context():
    start = time.perf_counter()
    service.search(db.session, parse({first!r}))
    found["first_ms"] = (time.perf_counter() - start) * 1000
found["matrix"] = rss()
held = app.extensions["meaning"]
found["nbytes"] = held.nbytes
found["rows"] = held.size
found["capacity"] = len(held.codes)
for text in {texts!r}:
    with app.app_context():
        service.search(db.session, parse(text))
found["after"] = rss()
print(json.dumps(found))
"""


def worker_memory(result: Result, config: dict, made: dict[str, list[str]]) -> None:
    log(f"{result.engine}: a fresh worker's memory")
    queries = [q for kind in KINDS for q in made[kind][:25]]
    code = WORKER.format(root=str(ROOT), config=config, texts=queries, first=made[KINDS[1]][0])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        log(f"worker memory: the process failed:\n{done.stderr[-3000:]}")
        return
    result.worker = json.loads(done.stdout.strip().splitlines()[-1])


def run(engine: str, size: int, count: int) -> Result:
    result = Result(engine, size)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        config = settings(engine, Path(tmp), POSTGRES)
        config.update({"SEARCH_MEANING": True, "SEARCH_MEANING_REFRESH": REFRESH})
        app = None
        try:
            app = build(result, config)
            log(f"{engine}: built in {result.built:.0f} s; timing the model alone")
            embedding(result, app)
            made = make_queries(count)
            warm_up(result, app, made)
            worker_memory(result, config, made)
            latency(result, app, made)
            nearest_step(result, app, made)
            result.refresh_late = refresh_figures(app)
        finally:
            if app is not None:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            if engine == "postgres":
                drop_database(POSTGRES)
    return result


# --- the report --------------------------------------------------------------------------

def ms(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} | {pct(values, 95):.1f}"


def report(r: Result) -> str:
    label = LABELS[r.engine]
    vacuum = f" (+ {r.vacuumed:.0f} s VACUUM ANALYZE)" if r.vacuumed is not None else ""
    embed_all = r.embed_ms_per_doc * r.size / 1000
    lines = [f"### {label}, {r.size:,} questions", "",
             "| build | |", "|---|---:|",
             f"| generate (synth) | {r.generated:.0f} s |",
             f"| full rebuild, documents and vectors, 2 processes | {r.built:.0f} s{vacuum} ({r.size / r.built:,.0f} docs/s) |",
             f"| model.embed per document ({EMBED_DOCS:,} documents, {EMBED_BATCH} a batch, one process; "
             f"{r.embed_chars:,.0f} characters each on average) | {r.embed_ms_per_doc:.3f} ms "
             f"(batches {min(r.embed_batches):.3f}-{max(r.embed_batches):.3f}); {embed_all:.0f} s for "
             f"{r.size:,} in one process |",
             f"| model load (this process) | {'%.1f s' % r.model_load if r.model_load is not None else 'already loaded'} |",
             f"| question_meaning rows / with a vector | {r.rows:,} / {r.vectors:,} |",
             f"| question_meaning size (table, TOAST and indexes) | "
             f"{'%.1f MB' % r.table_mb if r.table_mb is not None else 'unknown'} |", ""]

    head = ("| query | answer | words p50 ms | words p95 ms | hybrid p50 ms | hybrid p95 ms | p50 hybrid/words "
            "| p95 hybrid/words |")
    lines += [head, "|---|---|---:|---:|---:|---:|---:|---:|"]
    for measure in MEASURES:
        pooled: dict[str, list[float]] = {mode: [] for mode in MODES}
        for kind in [*KINDS, "all"]:
            if kind == "all":
                w, h = pooled["words"], pooled["hybrid"]
            else:
                w, h = r.found["words", measure, kind], r.found["hybrid", measure, kind]
                pooled["words"] += w
                pooled["hybrid"] += h
            name = f"**{kind}**" if kind == "all" else kind
            lines.append(f"| {name} | {measure} | {ms(w)} | {ms(h)} | "
                         f"{statistics.median(h) / statistics.median(w):.2f}× | {pct(h, 95) / pct(w, 95):.2f}× |")
    n = len(r.found["words", "whole page", KINDS[0]])
    lines += ["", "| query | words alone: whole pages with no match | hybrid: whole pages with a hit found by meaning "
              "alone | hybrid searches that re-read vectors |", "|---|---:|---:|---:|"]
    for kind in KINDS:
        reread = sum(sum(r.with_refresh[m, kind]) for m in MEASURES)
        lines.append(f"| {kind} | {r.words_empty[kind]} of {n} | {r.meaning_only[kind]} of {n} | "
                     f"{reread} of {n * len(MEASURES)} |")
    without = [t for m in MEASURES for k in KINDS
               for t, again in zip(r.found["hybrid", m, k], r.with_refresh[m, k], strict=True) if not again]
    lines += ["", f"Re-reads of the vectors during the latency run (every "
              f"{REFRESH:g} s, as a server): {len(r.refreshes)}, "
              + (f"p50 {statistics.median(r.refreshes):.1f} ms, max {max(r.refreshes):.1f} ms; hybrid p95 without "
                 f"the searches that paid for one: {pct(without, 95):.1f} ms."
                 if r.refreshes else "none."), ""]

    w = r.worker
    lines += ["| the vectors in a process | |", "|---|---:|"]
    if w:
        lines += [f"| fresh worker VmRSS after the app and {w['searches']} searches by words | "
                  f"{w['words']['VmRSS']:.0f} MB |",
                  f"| … after loading the model ({w['model_s']:.1f} s) | {w['model']['VmRSS']:.0f} MB "
                  f"(+{w['model']['VmRSS'] - w['words']['VmRSS']:.0f}) |",
                  f"| … after its first hybrid search ({w['first_ms']:,.0f} ms: the codes loaded) | "
                  f"{w['matrix']['VmRSS']:.0f} MB (+{w['matrix']['VmRSS'] - w['model']['VmRSS']:.0f}); "
                  f"peak {w['matrix']['VmHWM']:.0f} MB |",
                  f"| … after {w['searches']} hybrid searches more | {w['after']['VmRSS']:.0f} MB; peak {w['after']['VmHWM']:.0f} MB |",
                  f"| codes, ids and stamps held ({w['rows']:,} rows used of {w['capacity']:,}) | {w['nbytes'] / 2**20:.1f} MiB "
                  f"({w['rows'] * nearest.HELD * 4 / 2**20:.1f} MiB used) |"]
    else:
        lines.append("| fresh worker | failed (see stderr) |")
    early, late = r.refresh_early, r.refresh_late
    lines += [f"| first hybrid search in this process (model loaded; the codes loaded on the way) | "
              f"{r.first_hybrid:,.0f} ms |",
              f"| every vector read and coded (`Nearest.refresh`, first look; median of 3) | "
              f"{statistics.median(r.full_load):,.0f} ms |",
              f"| `Nearest.refresh`, nothing changed, newest vector {early[2]:.0f} s old | {early[0]:.1f} ms "
              f"({early[1]:,} rows in its window) |",
              f"| `Nearest.refresh`, nothing changed, at the end, newest vector {late[2]:.0f} s old | {late[0]:.1f} ms "
              f"({late[1]:,} rows in its window) |", ""]

    lines += [f"| the nearest step alone ({len(r.near_text)} queries, no re-reads) | p50 ms | p95 ms |",
              "|---|---:|---:|",
              f"| model.embed of the query | {ms(r.embed_one)} |",
              f"| nearest codes, their vectors read and scored, top {hybrid.NEAR} (`Nearest.near`) | {ms(r.product)} |",
              f"| `lookup.near_text` (both) | {ms(r.near_text)} |", ""]

    pooled_w = [t for m in MEASURES for k in KINDS for t in r.found["words", m, k]]
    pooled_h = [t for m in MEASURES for k in KINDS for t in r.found["hybrid", m, k]]
    ratio = pct(pooled_h, 95) / pct(pooled_w, 95)
    worst = max((pct(r.found["hybrid", m, k], 95) / pct(r.found["words", m, k], 95), m, k)
                for m in MEASURES for k in KINDS)
    lines.append(f"Target (issue 17), hybrid p95 ≤ {TARGET}× words alone: all queries and answers pooled "
                 f"{ratio:.2f}× ({'met' if ratio <= TARGET else 'missed'}); the worst row {worst[0]:.2f}× "
                 f"({worst[2]}, {worst[1]}; {'met' if worst[0] <= TARGET else 'missed'}).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=["postgres"])
    args = parser.parse_args()
    code = fingerprint()
    began, load = time.perf_counter(), os.getloadavg()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    log(f"webapp/search code {code}; commit {commit}")
    results = [run(engine, args.size, args.queries) for engine in dict.fromkeys(args.engines)]
    took = time.perf_counter() - began
    lines = ["```", f"$ .venv/bin/python bench/meaning.py {' '.join(sys.argv[1:])}".rstrip(), "```", "",
             machine(), f"{platform.platform()}; {os.cpu_count()} CPUs; load {load:.1f} at the start, "
             f"{os.getloadavg()[0]:.1f} at the end; {time.strftime('%Y-%m-%d %H:%M')}; commit {commit} "
             f"(working tree, webapp/search {code}); the run took {took / 60:.1f} minutes.", ""]
    for result in results:
        lines += [report(result), ""]
    if fingerprint() != code:
        lines.append(f"**webapp/search changed during this run** ({code} at the start, {fingerprint()} at the end): "
                     "the figures may mix two versions of the code.")
    print("\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
