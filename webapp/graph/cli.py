"""`flask graph suggest`: recompute the suggested related questions."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from webapp.answers.models import ANSWERED, Question
from webapp.extensions import db
from webapp.graph import suggestions

graph_cli = AppGroup("graph", help="The related-question graph.")


def refresh_with_progress() -> int:
    total = db.session.scalar(select(func.count()).select_from(Question).where(Question.status == ANSWERED)) or 0
    with click.progressbar(length=total, label="Suggesting", file=sys.stderr) as bar:
        return suggestions.refresh(db.session, progress=bar.update)


@graph_cli.command("suggest")
def suggest_command() -> None:
    """Fill every answer's "Want to dive deeper?" up to five with similar questions."""
    click.echo(f"suggestions computed for {refresh_with_progress()} answers")
