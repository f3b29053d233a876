"""A second process that writes questions, for the index-truth tests.

    python -m tests.search_worker MODE DATABASE_URL INDEX_DIR [ARGS…]

edit-and-die SLUG WORD: commit a new summary word, then die (SIGKILL) before draining.
edit-many PREFIX N SLUG…: commit N rounds of edits to the slugs, draining after each."""
from __future__ import annotations

import os
import signal
import sys

from sqlalchemy import select

from webapp import create_app
from webapp.answers.models import Question
from webapp.extensions import db


def app_for(database: str, index_dir: str, **overrides):
    return create_app({
        "TESTING": True, "SECRET_KEY": "worker", "SQLALCHEMY_DATABASE_URI": database,
        "SEARCH_INDEX_DIR": index_dir, "SEARCH_REBUILD_IN_BACKGROUND": False,
        "SEARCH_ENGINE": os.environ.get("TEST_SEARCH_ENGINE", ""), **overrides,
    })


def set_summary(slug: str, text: str) -> None:
    question = db.session.scalar(select(Question).where(Question.slug == slug))
    question.summary = text
    db.session.commit()


def edit_and_die(database: str, index_dir: str, slug: str, word: str) -> None:
    app = app_for(database, index_dir, SEARCH_DRAIN_ON_COMMIT=False)
    with app.app_context():
        set_summary(slug, f"Rewritten with the word {word} [1].")
    os.kill(os.getpid(), signal.SIGKILL)  # committed, never drained


def edit_many(database: str, index_dir: str, prefix: str, rounds: str, *slugs: str) -> None:
    # A short lock timeout makes the two processes collide often.
    app = app_for(database, index_dir, SEARCH_LOCK_TIMEOUT=0.01)
    with app.app_context():
        for n in range(int(rounds)):
            for slug in slugs:
                set_summary(slug, f"Round {n} of {prefix}{slug.replace('-', '')} [1].")
    print("done")


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"edit-and-die": edit_and_die, "edit-many": edit_many}[mode](*args)
