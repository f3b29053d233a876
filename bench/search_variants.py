"""What would make the PostgreSQL engine's results page faster: the statements of its
first version (GIN index, ts_rank over every match, exact grouped counts; copied
below) against changed versions of them, on the same queries, interleaved.

    .venv/bin/python bench/search_variants.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_search
                                              [--queries 30] [--rum]

Run it on a database `bench/search.py --keep` left. Settings are changed per
transaction only (SET LOCAL). With `--rum` it creates the `rum` extension and a RUM
index on search_document.tsv in that scratch database (its name must start with
"bench"), for the `tsv <=> query` variants; nothing else is changed. The "as is" rows
are the first version only on a database whose tsv index is still GIN (one that
version built); the engine now builds a RUM index, which the planner then uses."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import KINDS, POSTGRES, pct, queries  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from webapp.search.query import STOP_WORDS, ReaderQuery, parse  # noqa: E402

# The statements of webapp/search/postgres/querying.py as first written (GIN index,
# ts_rank, exact grouped counts), copied so that they stay comparable while it changes.
CONFIG = "plumb_english"
WEIGHTS = "'{0.05, 0.2, 0.4, 1.0}'"
START, STOP = "\x02", "\x03"
SNIPPET = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""
WHOLE = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"


class Sql:
    def __init__(self):
        self.params: dict = {}

    def bind(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def tsquery(sql: Sql, query: ReaderQuery) -> str:
    parts = [f"plainto_tsquery('{CONFIG}', {sql.bind(w)})" for w in query.words if w not in STOP_WORDS]
    parts += [f"phraseto_tsquery('{CONFIG}', {sql.bind(p)})" for p in query.phrases]
    return " || ".join(parts) if parts else "CAST('' AS tsquery)"


FAST_PLANS = "SET LOCAL random_page_cost = 1.1"
RANK = f"ts_rank({WEIGHTS}, d.tsv, q.q) DESC, d.question_id"
SOURCE = "search_document d, (SELECT {tsq} AS q) q"


def headlines(inner_order: str, outer_order: str, with_headlines: bool = True) -> str:
    shown = (f"ts_headline('{CONFIG}', p.question, p.q, '{WHOLE}'), ts_headline('{CONFIG}', p.summary, p.q, '{SNIPPET}')"
             if with_headlines else "p.question, p.summary")
    return (f"SELECT p.slug, p.category, p.category_name, p.status, p.checked_on, {shown} "
            f"FROM (SELECT d.*, q.q FROM {SOURCE} WHERE d.tsv @@ q.q ORDER BY {inner_order} LIMIT 10) p "
            f"ORDER BY {outer_order}")


FACETS = (f"SELECT d.category, d.category_name, d.status, count(*) FROM {SOURCE} WHERE d.tsv @@ q.q "
          "GROUP BY d.category, d.category_name, d.status")
VARIANTS = {
    # name: (settings, statement); the first two of each group are the engine's own statements
    "facet counts (as is)": ([], FACETS),
    "facet counts, random_page_cost 1.1": ([FAST_PLANS], FACETS),
    "count capped at 1,000, no facets, rpc 1.1": (
        [FAST_PLANS], f"SELECT count(*) FROM (SELECT 1 FROM {SOURCE} WHERE d.tsv @@ q.q LIMIT 1001) s"),
    "page: ts_rank + headlines (as is)": ([], headlines(RANK, RANK.replace("d.", "p.").replace("q.q", "p.q"))),
    "page: ts_rank + headlines, rpc 1.1": (
        [FAST_PLANS], headlines(RANK, RANK.replace("d.", "p.").replace("q.q", "p.q"))),
    "page: ts_rank, no headlines, rpc 1.1": (
        [FAST_PLANS], headlines(RANK, RANK.replace("d.", "p.").replace("q.q", "p.q"), with_headlines=False)),
}
RUM_VARIANTS = {
    "page: RUM tsv <=> q + headlines": (
        # ordered by the distance alone, so the index gives the order (a tie-break key would not)
        [], headlines("d.tsv <=> q.q", "p.tsv <=> p.q, p.question_id")),
    "page: RUM top 100 by <=>, re-ranked by ts_rank + headlines": (
        [], "SELECT p.slug, p.category, p.category_name, p.status, p.checked_on, "
            f"ts_headline('{CONFIG}', p.question, p.q, '{WHOLE}'), ts_headline('{CONFIG}', p.summary, p.q, '{SNIPPET}') "
            f"FROM (SELECT c.* FROM (SELECT d.*, q.q FROM {SOURCE} WHERE d.tsv @@ q.q ORDER BY d.tsv <=> q.q LIMIT 100) c "
            f"ORDER BY ts_rank({WEIGHTS}, c.tsv, c.q) DESC, c.question_id LIMIT 10) p "
            f"ORDER BY ts_rank({WEIGHTS}, p.tsv, p.q) DESC, p.question_id"),
}


# "Did you mean": which words are known (every query), then for each unknown word the
# known words alike by trigrams (timed here for the first word, known or not).
SPELLING = {
    "did you mean: known words": (
        "SELECT word FROM search_word WHERE word = ANY(:w)", lambda words: {"w": words}),
    "did you mean: trigram candidates, one word": (
        "SELECT word FROM search_word WHERE word % :w AND left(word, 1) = left(:w, 1) "
        "ORDER BY similarity(word, :w) DESC, word LIMIT 20", lambda words: {"w": words[0]}),
}


def add_rum(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
        start = time.perf_counter()
        connection.execute(text("CREATE INDEX IF NOT EXISTS search_document_rum ON search_document "
                                "USING rum (tsv rum_tsvector_ops)"))
        built = time.perf_counter() - start
        size = connection.scalar(text("SELECT pg_relation_size('search_document_rum')"))
        gin = connection.scalar(text("SELECT pg_relation_size('search_document_tsv')"))
    print(f"RUM index: built in {built:.0f} s (0 if it was there), {size / 1e6:,.0f} MB "
          f"(the GIN index: {gin / 1e6:,.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--queries", type=int, default=30, help="queries of each kind")
    parser.add_argument("--rum", action="store_true", help="add a RUM index and its variants")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN (ANALYZE, BUFFERS) every statement for each kind's median query")
    args = parser.parse_args()
    if not (make_url(args.postgres).database or "").startswith("bench"):
        raise SystemExit("use a scratch database whose name starts with 'bench'")
    engine = create_engine(args.postgres)
    variants = dict(VARIANTS)
    if args.rum:
        add_rum(engine)
        variants.update(RUM_VARIANTS)
    with Session(engine) as session:
        made = queries(session, args.queries)
    times = {kind: {name: [] for name in [*variants, *SPELLING]} for kind in KINDS}
    same_top = {kind: dict.fromkeys(RUM_VARIANTS, 0) for kind in KINDS}
    top_count = dict.fromkeys(KINDS, 0)
    for position in range(args.queries):
        for kind in KINDS:
            sql = Sql()
            tsq = tsquery(sql, parse(made[kind][position][0]))
            tops = {}
            for name, (settings, statement) in variants.items():
                with Session(engine) as session:
                    for setting in settings:
                        session.execute(text(setting))
                    start = time.perf_counter()
                    rows = session.execute(text(statement.replace("{tsq}", tsq)), sql.params).all()
                    times[kind][name].append((time.perf_counter() - start) * 1000)
                    session.rollback()
                tops[name] = [r[0] for r in rows]
            words = [w for w in parse(made[kind][position][0]).words if len(w) >= 3]
            for name, (statement, values) in SPELLING.items():
                if not words:
                    continue
                with Session(engine) as session:
                    start = time.perf_counter()
                    session.execute(text(statement), values(words)).all()
                    times[kind][name].append((time.perf_counter() - start) * 1000)
            if args.rum:
                top_count[kind] += len(tops["page: ts_rank + headlines (as is)"][:3])
                for name in RUM_VARIANTS:
                    same_top[kind][name] += len(set(tops[name][:3]) & set(tops["page: ts_rank + headlines (as is)"][:3]))
    print("| query | statement | p50 ms | p95 ms |")
    print("|---|---|---:|---:|")
    for kind in KINDS:
        for name in [*variants, *SPELLING]:
            values = times[kind][name]
            if not values:
                continue
            print(f"| {kind} | {name} | {statistics.median(values):.1f} | {pct(values, 95):.1f} |")
    if args.rum:
        for kind in KINDS:
            for name in RUM_VARIANTS:
                print(f"{kind}: {name}: has {same_top[kind][name] / max(1, top_count[kind]):.0%} of ts_rank's top 3")
    if args.explain:
        explain(engine, made, times, variants)


def explain(engine, made, times, variants) -> None:
    for kind in KINDS:
        key = "page: ts_rank + headlines (as is)"
        ordered = sorted(range(len(times[kind][key])), key=lambda n: times[kind][key][n])
        position = ordered[len(ordered) // 2]
        sql = Sql()
        tsq = tsquery(sql, parse(made[kind][position][0]))
        print(f"\n=== {kind}: the median query {made[kind][position][0]!r}")
        for name, (settings, statement) in variants.items():
            with Session(engine) as session:
                for setting in settings:
                    session.execute(text(setting))
                plan = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement.replace("{tsq}", tsq)),
                                       sql.params).scalars().all()
                session.rollback()
            print(f"--- {name}\n" + "\n".join(plan))


if __name__ == "__main__":
    main()
