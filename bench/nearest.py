"""Search by meaning's nearest step on an existing database's vectors: what a process
holds, how long the step takes, and how many of the true nearest it finds.

    DATABASE_URL=postgresql+psycopg://…/million .venv/bin/python bench/nearest.py [--queries 200]

For the 1,000,000-question database of docs/capacity.md (any database with vectors in
question_meaning will do). In one process, in this order:

- Load: `Nearest.refresh`'s first look (every vector read, its code kept): time, RSS
  before and after, and what it holds (`nbytes`).
- Baseline, in the same run: the exact scan the code made before issue 18, every
  vector's first HELD dimensions as float32 in one matrix, one matrix-vector product
  and the top 20 by argpartition; its size.
- Queries: the texts of random questions, embedded by the model as a reader's words
  are (the embedding is timed apart). Per query, the baseline's scan and `Nearest.near`
  (the nearest codes, their vectors read from the database and scored), in turn;
  p50/p95 of each and the ratio. `near`'s two steps are timed apart too.
- Recall: of the baseline's exact top 20, how many `near` returns; and of those at
  least SEARCH_MEANING_FLOOR alike (what search shows on meaning alone), how many.
- With `--also 1000,2000`: `near` again with that many candidates scored exactly
  (the codes are the same), its time and recall, to weigh CANDIDATES.

Prints a Markdown table for docs/performance.md."""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.answers.models import Question  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.search.meaning import model, nearest  # noqa: E402
from webapp.search.meaning.models import QuestionMeaning  # noqa: E402
from webapp.search.meaning.store import from_bytes  # noqa: E402

LIMIT = 20  # hybrid.NEAR: what a search asks for


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def exact_matrix(session) -> tuple[np.ndarray, np.ndarray]:
    """Every vector's HELD dimensions, unit length, float32: the matrix before issue 18."""
    count = session.scalar(select(func.count()).where(QuestionMeaning.vector.is_not(None))) or 0
    matrix = np.zeros((count, nearest.HELD), dtype=np.float32)
    ids = np.zeros(count, dtype=np.int64)
    at = 0
    rows = session.execute(select(QuestionMeaning.question_id, QuestionMeaning.vector)
                           .where(QuestionMeaning.vector.is_not(None)).execution_options(yield_per=5000))
    for batch in rows.partitions():
        block = nearest.held(np.stack([from_bytes(v) for _id, v in batch]))
        matrix[at : at + len(batch)] = block
        ids[at : at + len(batch)] = [i for i, _v in batch]
        at += len(batch)
    return matrix[:at], ids[:at]


def exact_near(matrix: np.ndarray, ids: np.ndarray, vector: np.ndarray) -> list[tuple[int, float]]:
    scores = matrix @ nearest.held(vector)
    best = np.argpartition(-scores, LIMIT - 1)[:LIMIT]
    best = best[np.argsort(-scores[best], kind="stable")]
    return list(zip(ids[best].tolist(), scores[best].tolist(), strict=True))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--also", default="", help="other candidate counts to try, comma-separated")
    args = parser.parse_args()
    others = [int(n) for n in args.also.split(",") if n.strip()]
    other_times: dict[int, list[float]] = {n: [] for n in others}
    other_recall: dict[int, list[float]] = {n: [] for n in others}
    app = create_app({"SEARCH_REBUILD_IN_BACKGROUND": False})
    found: dict = {}
    with app.app_context():
        session = db.session
        model.embed(["warm up"])
        found["rss_start"] = rss_mb()
        held = nearest.Nearest()
        start = time.perf_counter()
        held.refresh(session, 0.0)
        found["load_s"] = time.perf_counter() - start
        found["rss_codes"] = rss_mb()
        found["rows"], found["nbytes"] = held.size, held.nbytes
        start = time.perf_counter()
        matrix, ids = exact_matrix(session)
        found["baseline_load_s"] = time.perf_counter() - start
        found["rss_matrix"] = rss_mb()
        found["matrix_nbytes"] = matrix.nbytes + ids.nbytes
        last = session.scalar(select(func.max(Question.id))) or 0
        rng = random.Random(args.seed)
        texts = []
        while len(texts) < args.queries:
            text = session.scalar(select(Question.text).where(Question.id == rng.randint(1, last)))
            if text:
                texts.append(text)
        embed, baseline, near, candidates, recall = [], [], [], [], []
        floor = app.config["SEARCH_MEANING_FLOOR"]
        above, above_found = 0, 0  # the exact top 20 at or above the floor: how many, how many found
        for n, text in enumerate(texts):
            start = time.perf_counter()
            vector = model.embed([text])[0]
            embed.append((time.perf_counter() - start) * 1000)

            def run_baseline(vector=vector):
                begin = time.perf_counter()
                result = exact_near(matrix, ids, vector)
                baseline.append((time.perf_counter() - begin) * 1000)
                return result

            def run_near(vector=vector):
                begin = time.perf_counter()
                result = [q for q, _s in held.near(session, vector, LIMIT)]
                near.append((time.perf_counter() - begin) * 1000)
                begin = time.perf_counter()
                held.candidates(vector, max(nearest.CANDIDATES, LIMIT))
                candidates.append((time.perf_counter() - begin) * 1000)
                return result

            if n % 2:  # the order turns round every query
                truth, got = run_baseline(), run_near()
            else:
                got, truth = run_near(), run_baseline()
            recall.append(len({q for q, _s in truth} & set(got)) / LIMIT)
            for count in others:
                kept, nearest.CANDIDATES = nearest.CANDIDATES, count
                try:
                    begin = time.perf_counter()
                    tried = [q for q, _s in held.near(session, vector, LIMIT)]
                    other_times[count].append((time.perf_counter() - begin) * 1000)
                finally:
                    nearest.CANDIDATES = kept
                other_recall[count].append(len({q for q, _s in truth} & set(tried)) / LIMIT)
            shown = {q for q, score in truth if score >= floor}
            above += len(shown)
            above_found += len(shown & set(got))
            session.rollback()
    warm = slice(10, None)  # the first few pay for cold pages
    b, m, c = baseline[warm], near[warm], candidates[warm]
    print(f"machine: {platform.node()} ({os.cpu_count()} CPUs), {time.strftime('%Y-%m-%d')}, "
          f"{found['rows']:,} vectors, {len(b)} queries timed (first 10 left out), one process\n")
    print("| | held | load |")
    print("|---|---:|---:|")
    print(f"| before: float32 matrix of {nearest.HELD} dims + ids | {found['matrix_nbytes'] / 2**20:,.0f} MiB "
          f"(RSS +{found['rss_matrix'] - found['rss_codes']:,.0f} MB) | {found['baseline_load_s']:.1f} s |")
    print(f"| now: codes ({nearest.CODE_BYTES} bytes), ids, stamps, row by id | {found['nbytes'] / 2**20:,.0f} MiB "
          f"(RSS +{found['rss_codes'] - found['rss_start']:,.0f} MB) | {found['load_s']:.1f} s |\n")
    print("| per query | p50 ms | p95 ms | ratio p50 |")
    print("|---|---:|---:|---:|")
    print(f"| model.embed (both) | {pct(embed, .5):.2f} | {pct(embed, .95):.2f} | |")
    print(f"| before: exact scan, top {LIMIT} (baseline) | {pct(b, .5):.2f} | {pct(b, .95):.2f} | 1.00 |")
    print(f"| now: `Nearest.near` | {pct(m, .5):.2f} | {pct(m, .95):.2f} | {pct(m, .5) / pct(b, .5):.2f} |")
    print(f"| … of which the {nearest.CANDIDATES} nearest codes | {pct(c, .5):.2f} | {pct(c, .95):.2f} | "
          f"{pct(c, .5) / pct(b, .5):.2f} |")
    for count in others:
        t = other_times[count][warm]
        print(f"| `near` with {count:,} candidates | {pct(t, .5):.2f} | {pct(t, .95):.2f} | "
              f"{pct(t, .5) / pct(b, .5):.2f} | recall {statistics.mean(other_recall[count]) * 100:.1f}% |")
    print(f"\nrecall: {statistics.mean(recall) * 100:.1f}% of the exact top {LIMIT} found "
          f"(min {min(recall) * 100:.0f}%, {sum(r == 1 for r in recall)} of {len(recall)} queries all 20); "
          f"of those at least SEARCH_MEANING_FLOOR ({floor}) alike, which search shows on meaning alone: "
          f"{above_found} of {above} ({100 * above_found / max(1, above):.1f}%)")


if __name__ == "__main__":
    main()
