"""Every reader-facing page of a filled database, through gunicorn, each against /healthz
in the same run (issue 18: the site at 1,000,000 questions); then each worker's memory
after a mix of requests.

    .venv/bin/python bench/site.py --url postgresql+psycopg://postgres@127.0.0.1:5432/million \
        [--rounds 60] [--mixed 1000] [--workers 2] [--seed 7] [--desk] [--prewarm]

The database is used as it is (fill it first: `flask db upgrade`, then `flask demo synth
--count 1000000 --accounts 50000 --pledges 200000 --signals-days 365`, docs/capacity.md);
the bench adds pledges through the widget and nothing else (with `--desk`, it also makes
the second synthetic account an editor, to time the desk's home and its related-question
finder as an editor sees them). Each round asks /healthz and
then every page once, in a shuffled order, over HTTP with a new connection each time (as
a reader's first request), so the machine's noise falls on every row alike; a row's
ratio is to /healthz's own figure in the same run. Pages whose text differs by target
(answers, searches, paths) take a new target each round. Figures: docs/performance.md."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.pages import form_token  # noqa: E402
from tests.servers import Reader, gunicorn  # noqa: E402
from webapp.synthetic.readers import SYNTH_PASSWORD  # noqa: E402

HTMX = {"HX-Request": "true"}


def sample(url: str, seed: int, size: int = 200) -> dict[str, list]:
    """Targets drawn at random from the database: answered and unanswered questions,
    their sections, categories, words of their questions."""
    rng = random.Random(seed)
    engine = create_engine(url)
    with engine.connect() as connection:
        top = connection.scalar(text("select max(id) from question")) or 0
        ids = rng.sample(range(1, top + 1), min(top, 20 * size))
        rows = connection.execute(text("select slug, status, text from question where id = any(:ids)"),
                                  {"ids": ids}).all()
        categories = list(connection.scalars(text("select slug from category where answered_count > 0")))
        readers = list(connection.scalars(text("select email from user_account where email like 'synth-user-%%' "
                                               "order by id limit 50")))
    engine.dispose()
    answered = [r.slug for r in rows if r.status == "answered"][:size]
    unanswered = [r.slug for r in rows if r.status != "answered"][:size]
    words = sorted({w.lower() for r in rows for w in re.findall(r"[A-Za-z]{5,}", r.text)})
    return {"answered": answered, "unanswered": unanswered, "categories": categories, "words": words,
            "readers": readers}


def pages(targets: dict, rng: random.Random) -> dict[str, tuple[str, dict]]:
    """One request of each kind: its path and headers."""
    answered, words = targets["answered"], targets["words"]
    one = rng.choice
    return {
        "answer page": (f"/q/{one(answered)}", {}),
        "unanswered page": (f"/q/{one(targets['unanswered'])}", {}),
        "section fragment": (f"/q/{one(answered)}/sections/1", HTMX),
        "category page": (f"/c/{one(targets['categories'])}", {}),
        "category page 50": (f"/c/{one(targets['categories'])}?page=50", {}),
        "home": ("/", {}),
        "search, 1 word": ("/search?" + urllib.parse.urlencode({"q": one(words)}), {}),
        "search, 3 words": ("/search?" + urllib.parse.urlencode({"q": " ".join(rng.sample(words, 3))}), {}),
        "search, phrase": ("/search?" + urllib.parse.urlencode({"q": f'"{one(words)} {one(words)}"'}), {}),
        "explorer, 1 hop": (f"/explore/{one(answered)}?hops=1", {}),
        "explorer, 2 hops": (f"/explore/{one(answered)}?hops=2", {}),
        "/explore hubs": ("/explore", {}),
        "how are these connected": (f"/explore/path?from={one(answered)}&to={one(answered)}", {}),
        "/requests": ("/requests", {}),
        "widget poll": ("/support/widget", HTMX),
        "/support page": ("/support", {}),
        "sitemap index": ("/sitemap.xml", {}),
    }


def finder_path(words: list[str], rng: random.Random) -> str:
    """The related-question finder as an editor types into it: one to three words of
    questions, each maybe cut short (it matches parts of words)."""
    typed = [w[: rng.randint(4, len(w))] for w in rng.sample(words, rng.choice((1, 2, 2, 3)))]
    return "/desk/questions?" + urllib.parse.urlencode({"related_query": " ".join(typed)})


def logged_in(base: str, email: str) -> Reader:
    reader = Reader(base, email)
    login = reader.request("/login").body
    reader.request("/login", {"email": email, "password": SYNTH_PASSWORD, "csrf_token": form_token(login)})
    account = reader.request("/account")
    if account.status != 200:
        raise SystemExit(f"{email} could not log in")
    reader.csrf = form_token(account.body)
    return reader


def make_editor(url: str, email: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("update user_account set is_editor = true where email = :e"), {"e": email})
    engine.dispose()


PREWARMED = ("search_document", "search_document_tsv", "question", "question_meaning", "section", "related_link")


def prewarm(url: str) -> None:
    """Read the tables and indexes pages read most into the OS's cache (pg_prewarm's
    'read' mode), as a database server with memory for its data would hold them."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        for name in PREWARMED:
            started = time.perf_counter()
            blocks = connection.scalar(text("SELECT pg_prewarm(CAST(:name AS regclass), 'read')"), {"name": name})
            print(f"prewarmed {name}: {blocks * 8 / 2**20:,.1f} GiB in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
    engine.dispose()


def timed(reader: Reader, path: str, headers: dict) -> float:
    started = time.perf_counter()
    answer = reader.request(path, headers=headers)
    took = (time.perf_counter() - started) * 1000
    if answer.status >= 500:
        raise SystemExit(f"{path} answered {answer.status}")
    return took


def pledge(reader: Reader) -> float:
    """A supporter's pledge through the widget's form (its key and token from the widget
    rendered just before, not timed)."""
    widget = reader.request("/support/widget?full=1", headers=HTMX).body
    key = re.search(r'name="key"[^>]*value="([^"]+)"', widget) or re.search(r'value="([^"]+)"[^>]*name="key"', widget)
    form = {"csrf_token": form_token(widget), "key": key.group(1), "amount": "500", "frequency": "once"}
    started = time.perf_counter()
    answer = reader.pledge(form)
    took = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise SystemExit(f"a pledge answered {answer.status}: {answer.body[:300]}")
    return took


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def workers() -> list[int]:
    """The gunicorn workers: the children of the master this process started."""
    masters = [p for p in children(os.getpid()) if b"gunicorn" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return [w for m in masters for w in children(m)]


def worker_memory_mb() -> list[tuple[float, float]]:
    """Each worker's resident memory and its proportional share (PSS: pages shared with
    the master and the other workers, such as the libraries' code, divided among them;
    what the machine needs is the sum of these)."""
    sizes = []
    for worker in workers():
        rollup = Path(f"/proc/{worker}/smaps_rollup").read_text()
        rss, pss = (int(re.search(rf"^{name}:\s+(\d+)", rollup, re.M).group(1)) / 1024 for name in ("Rss", "Pss"))
        sizes.append((rss, pss))
    return sorted(sizes)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(longest: float = 180.0) -> float:
    """Wait until the workers are idle (under 0.1 s of CPU in 2 s): with search by
    meaning, each loads its codes in a background thread after its first search, and
    timing pages meanwhile would time that load. The seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < longest:
        before = sum(cpu_seconds(w) for w in workers())
        time.sleep(2)
        if sum(cpu_seconds(w) for w in workers()) - before < 0.1:
            break
    return time.monotonic() - started


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a filled PostgreSQL (or SQLite) database's URL")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--mixed", type=int, default=1000, help="mixed requests before reading the workers' memory")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--meaning", action="store_true", help="search by meaning too (the vectors must be there)")
    parser.add_argument("--only", help="only the requests whose name contains this (say: search)")
    parser.add_argument("--no-pledge", dest="pledge", action="store_false", help="leave pledges out")
    parser.add_argument("--prewarm", action="store_true",
                        help="read the busiest tables and indexes into the OS's cache first (PostgreSQL)")
    parser.add_argument("--desk", action="store_true", help="the desk's home and finder too, as an editor (made one here)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.prewarm:
        prewarm(args.url)
    targets = sample(args.url, args.seed)
    print(f"# {dt.datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"{args.workers} gunicorn workers, {args.rounds} rounds", flush=True)
    settings = {"SEARCH_MEANING": "1" if args.meaning else "0", "SEARCH_REBUILD_IN_BACKGROUND": "0"}
    with tempfile.TemporaryDirectory() as folder, gunicorn(Path(folder), args.url, workers=args.workers,
                                                           **settings) as server:
        reader = Reader(server.url, "")
        supporter = logged_in(server.url, targets["readers"][0]) if targets["readers"] else None
        editor = None
        if args.desk and len(targets["readers"]) > 1:
            make_editor(args.url, targets["readers"][1])
            editor = logged_in(server.url, targets["readers"][1])
            timed(editor, "/desk", {})
        for path, headers in pages(targets, rng).values():  # warm: first compile, caches, pools
            timed(reader, path, headers)
        if args.meaning:
            for _ in range(4 * args.workers):  # a first search in every worker starts its load
                timed(reader, pages(targets, rng)["search, 1 word"][0], {})
            print(f"workers loaded their codes, idle after {settle():.0f} s", file=sys.stderr, flush=True)
        times: dict[str, list[float]] = {"/healthz": []}
        if not args.pledge:
            supporter = None
        for round_number in range(args.rounds):
            kinds = [(k, v) for k, v in pages(targets, rng).items() if not args.only or args.only in k]
            rng.shuffle(kinds)
            for kind, (path, headers) in kinds:
                times["/healthz"].append(timed(reader, "/healthz", {}))
                times.setdefault(kind, []).append(timed(reader, path, headers))
            if supporter:
                times["/healthz"].append(timed(reader, "/healthz", {}))
                times.setdefault("a pledge", []).append(pledge(supporter))
            if editor:
                times["/healthz"].append(timed(reader, "/healthz", {}))
                times.setdefault("the desk's home (an editor)", []).append(timed(editor, "/desk", {}))
                times["/healthz"].append(timed(reader, "/healthz", {}))
                times.setdefault("the desk's finder (an editor)", []).append(
                    timed(editor, finder_path(targets["words"], rng), HTMX))
            print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr, end="\r", flush=True)
        base50, base95 = pct(times["/healthz"], 50), pct(times["/healthz"], 95)
        print("\n| request | p50 ms | p95 ms | p50 / healthz | p95 / healthz |\n|---|---:|---:|---:|---:|")
        for kind, values in times.items():
            print(f"| {kind} | {pct(values, 50):.1f} | {pct(values, 95):.1f} | "
                  f"{pct(values, 50) / base50:.1f}x | {pct(values, 95) / base95:.1f}x |")
        for n in range(args.mixed):
            path, headers = rng.choice(list(pages(targets, rng).values()))
            timed(reader, path, headers)
            if n % 50 == 0:
                print(f"mixed {n}/{args.mixed}", file=sys.stderr, end="\r", flush=True)
        print(f"\nworkers' memory after {args.mixed} mixed requests (RSS, PSS): "
              + ", ".join(f"{rss:.0f} MB ({pss:.0f} MB)" for rss, pss in worker_memory_mb()))


if __name__ == "__main__":
    main()
