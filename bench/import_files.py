"""What importing a large folder of answer files costs on an existing database: the
throughput of `flask content import` (issue 18), file by file.

    DATABASE_URL=postgresql+psycopg://…/million SEARCH_ENGINE=postgres \
        .venv/bin/python bench/import_files.py [--files 2000] [--seed 5]

Writes FILES answer files, each a new question whose "Want to dive deeper?" list names
three questions by their text, as editors write them: the next two files' questions
(found in the same folder) and a question no one has asked (an unanswered question is
made). Then imports them as `flask content import` does, with suggestions and ranking
left out (bench/suggest_import.py times those), and prints the time to read and check
the folder and the time to write it, each per file, and the process's peak memory. The
database keeps the questions: a bench database."""
from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webapp import create_app  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from webapp.extensions import db  # noqa: E402

WORDS = "river harbour lantern orchard meadow glacier canyon thunder comet prairie".split()


def question(run: str, number: int, rng: random.Random) -> str:
    return f"Does the {rng.choice(WORDS)} of batch {run} number {number} hold?"


def answer_file(run: str, number: int, texts: list[str]) -> str:
    count = len(texts)
    related = [texts[(number + 1) % count], texts[(number + 2) % count], f"Was batch {run} number {number} asked before?"]
    lines = "".join(f"  - {entry}\n" for entry in related)
    return (f"---\nquestion: {texts[number]}\nslug: bench-files-{run}-{number}\ncategory: science\n"
            f"checked_on: 2026-12-01\nsources:\n  - title: A source\n    url: https://example.org/{run}/{number}\n"
            f"related:\n{lines}---\nThe summary of number {number} [1].\n\n## 1. More\nThe body [1].\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    run = f"{options.seed}x{int(time.time())}"
    texts = [question(run, n, rng) for n in range(options.files)]
    app = create_app()
    with tempfile.TemporaryDirectory() as folder, app.app_context():
        for number in range(options.files):
            (Path(folder) / f"bench-{number:06}.md").write_text(answer_file(run, number, texts))
        ticks: list[float] = []  # the progress callback: once a file read, then once a file written
        started = time.perf_counter()
        report = import_folder(db.session, Path(folder), lambda _name: ticks.append(time.perf_counter()))
        written = time.perf_counter()
    read = ticks[options.files - 1] if len(ticks) >= options.files else written
    checked = ticks[options.files] if len(ticks) > options.files else written  # and the first written
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{platform.node()} {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC")
    print(f"files: {options.files}; created {len(report.created)}, rejected {len(report.rejected)}")
    print(f"read: {read - started:.1f} s; checked against each other and the database: {checked - read:.1f} s "
          f"({1000 * (checked - read) / options.files:.2f} ms a file)")
    print(f"written: {written - checked:.1f} s ({1000 * (written - checked) / options.files:.2f} ms a file)")
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
