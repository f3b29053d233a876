"""`flask graph suggest | rank`: the suggested related questions, and PageRank."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from webapp.answers.models import ANSWERED, Question
from webapp.extensions import db
from webapp.graph import ranking, suggestions

graph_cli = AppGroup("graph", help="The related-question graph.")


def refresh_with_progress() -> int:
    total = db.session.scalar(select(func.count()).select_from(Question).where(Question.status == ANSWERED)) or 0
    with click.progressbar(length=total, label="Suggesting", file=sys.stderr) as bar:
        return suggestions.refresh(db.session, progress=bar.update)


def rank_with_progress() -> int:
    total = db.session.scalar(select(func.count()).select_from(Question)) or 0
    with click.progressbar(length=total, label="Ranking", file=sys.stderr) as bar:
        ranked = ranking.compute(db.session, progress=bar.update)
    db.session.commit()
    return ranked


@graph_cli.command("rank")
def rank_command() -> None:
    """PageRank over the related links, stored for /explore's hubs (after imports; on a schedule)."""
    click.echo(f"ranked {rank_with_progress()} questions")


@graph_cli.command("suggest")
def suggest_command() -> None:
    """Fill every answer's "Want to dive deeper?" up to five with similar questions."""
    click.echo(f"suggestions computed for {refresh_with_progress()} answers")
