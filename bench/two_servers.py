"""Two app servers on one PostgreSQL: how long until an edit committed elsewhere is
found by a search through each of them.

    .venv/bin/python bench/two_servers.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_two] [--edits 30]

The scratch database named by --url is emptied (its tables DROPPED), given the demo
content, and served by two gunicorn instances (one worker each, each with its own empty
index folder, as on two machines). Each edit rewrites one answer's summary with a new
word and commits it from this process; then both servers are asked, every 20 ms, until
they find it (or 3 s pass). Run once per engine: PostgreSQL (documents in the
database) and Whoosh (an index folder per server) for comparison."""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from tests.pages import result_links  # noqa: E402
from tests.servers import gunicorn  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.answers.models import Question  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.graph import suggestions  # noqa: E402

GIVE_UP = 3.0


def scratch_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("select 1 from pg_database where datname = :n"), {"n": name}):
            connection.execute(text(f'create database "{name}"'))
    admin.dispose()


def prepare(url: str, engine: str, folder: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SEARCH_ENGINE": engine,
                      "SEARCH_INDEX_DIR": str(folder / "writer_index"), "SEARCH_REBUILD_IN_BACKGROUND": False})
    with app.app_context():
        db.drop_all()
        db.create_all()
        import_folder(db.session, ROOT / "content" / "demo")
        suggestions.refresh(db.session)
        app.extensions["search"].rebuild()
    return app


def found(server, word: str) -> bool:
    with urllib.request.urlopen(f"{server.url}/search?{urllib.parse.urlencode({'q': word})}", timeout=10) as r:
        return bool(result_links(r.read().decode()))


def wait_for(server, word: str, since: float) -> float | None:
    while time.monotonic() - since < GIVE_UP:
        if found(server, word):
            return (time.monotonic() - since) * 1000
        time.sleep(0.02)
    return None


def run(url: str, engine: str, edits: int) -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        app = prepare(url, engine, folder)
        for name in ("a", "b"):
            (folder / name).mkdir()
        times = {"a": [], "b": []}
        with gunicorn(folder / "a", url, workers=1, SEARCH_ENGINE=engine) as a, \
                gunicorn(folder / "b", url, workers=1, SEARCH_ENGINE=engine) as b:
            for server in (a, b):  # the first request starts the engine (Whoosh: builds the index)
                deadline = time.monotonic() + 60
                while not found(server, "rayleigh") and time.monotonic() < deadline:
                    time.sleep(0.2)
            with app.app_context():
                ids = db.session.scalars(select(Question.id).where(Question.status == "answered")
                                         .order_by(Question.id).limit(edits)).all()
                for n, qid in enumerate(ids):
                    word = f"zqxbench{engine}{n}"
                    question = db.session.get(Question, qid)
                    question.summary = f"{question.summary} {word}"
                    start = time.monotonic()
                    db.session.commit()
                    for name, server in (("a", a), ("b", b)):
                        times[name].append(wait_for(server, word, start))
        with app.app_context():
            db.drop_all()
        return times


def describe(values: list[float | None]) -> str:
    seen = [v for v in values if v is not None]
    if not seen:
        return f"never (0 of {len(values)} within {GIVE_UP:.0f} s)"
    return (f"{len(seen)} of {len(values)}; p50 {statistics.median(seen):.0f} ms, max {max(seen):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_two")
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--engines", nargs="+", default=["postgres", "whoosh"])
    args = parser.parse_args()
    scratch_database(args.url)
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}.\n")
    print("| engine | edits found through server A | through server B |\n|---|---|---|")
    for engine in args.engines:
        times = run(args.url, engine, args.edits)
        print(f"| {engine} | {describe(times['a'])} | {describe(times['b'])} |")


if __name__ == "__main__":
    main()
