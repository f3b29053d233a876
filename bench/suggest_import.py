"""What an import costs in suggestions on an existing database: the answers recomputed
around what it changed (issue 18: before, every answer's were, after each import).

    DATABASE_URL=postgresql+psycopg://…/million SEARCH_ENGINE=postgres \
        .venv/bin/python bench/suggest_import.py [--files 10] [--sample 100] [--seed 3]

Writes FILES answer files, each a new question worded like a random answered one (its
words, so it has neighbours), imports them (the database keeps them: a bench database),
then times the suggestions: finding the answers around the changed ones, recomputing
those, and recomputing SAMPLE random answers, from which the time for every answer (what
each import did before) is estimated, in the same run. Figures: docs/performance.md."""
from __future__ import annotations

import argparse
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.answers.models import ANSWERED, Question  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.graph import suggestions  # noqa: E402


def answer_file(question: Question, number: int) -> str:
    words = question.text.rstrip("?").split()
    asked = " ".join(words[1:] + words[:1]).capitalize() + "?"  # the same words, another question
    summary = (question.summary or "").replace("\n", " ")
    return (f"---\nquestion: {asked}\nslug: bench-import-{question.id}-{number}\n"
            f"category: {question.category.slug}\nchecked_on: 2026-12-01\n"
            f"sources:\n  - title: A source\n    url: https://example.org/bench-{question.id}\n---\n"
            f"{_cited(summary)}\n\n## 1. More\n{_cited(question.text)}\n")


def _cited(text: str) -> str:
    return re.sub(r"\[\d+\]", "", text).strip() + " [1]."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    app = create_app()
    with app.app_context():
        session = db.session
        top = session.scalar(select(Question.id).order_by(Question.id.desc()).limit(1))
        picked = session.scalars(select(Question).where(Question.id.in_(rng.sample(range(1, top + 1), 50 * options.files)),
                                                        Question.status == ANSWERED)).all()[: options.files]
        with tempfile.TemporaryDirectory() as folder:
            for number, question in enumerate(picked):
                Path(folder, f"bench-{question.id}-{number}.md").write_text(answer_file(question, number))
            started = time.perf_counter()
            report = import_folder(session, Path(folder))
            imported = time.perf_counter() - started
        print(f"imported: {report.summary()} in {imported:.1f} s", file=sys.stderr)
        started = time.perf_counter()
        ids = suggestions.around(session, report.changed_ids)
        looked = time.perf_counter() - started
        started = time.perf_counter()
        recomputed = suggestions.refresh(session, ids)
        refreshed = time.perf_counter() - started
        answered = suggestions.answered_count(session)
        every = session.scalars(select(Question.id).where(Question.status == ANSWERED,
                                                          Question.id.in_(rng.sample(range(1, top + 1), 20 * options.sample)))
                                ).all()[: options.sample]
        started = time.perf_counter()
        suggestions.refresh(session, every)
        each = (time.perf_counter() - started) / max(1, len(every))
    print(f"# {platform.node()} {time.strftime('%Y-%m-%d')}: {answered:,} answered, {options.files} files imported")
    print(f"around the changed: {'all' if ids is None else len(ids)} answers found in {looked:.1f} s, "
          f"recomputed {recomputed} in {refreshed:.1f} s: {looked + refreshed:.1f} s in all")
    print(f"every answer, as each import did before: {each * 1000:.0f} ms an answer over {len(every)} "
          f"-> {answered * each / 3600:.1f} h for {answered:,}")


if __name__ == "__main__":
    main()
