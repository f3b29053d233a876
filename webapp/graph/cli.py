"""`flask graph suggest | rank | recount`: the suggested related questions, PageRank, and
the answer requests' counters."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from webapp.answers import counts
from webapp.answers.models import Question
from webapp.extensions import db
from webapp.graph import demand, ranking, suggestions

graph_cli = AppGroup("graph", help="The related-question graph.")


def refresh_with_progress(changed: list[int] | None = None) -> int:
    """Recompute the suggestions of every answer, or (`changed`) of those these changed
    questions can move (suggestions.around)."""
    ids = None
    if changed is not None:
        with click.progressbar(length=len(set(changed)), label="Looking around", file=sys.stderr) as bar:
            ids = suggestions.around(db.session, changed, progress=bar.update)
    total = counts.answered_total(db.session) if ids is None else len(ids)
    with click.progressbar(length=total, label="Suggesting", file=sys.stderr) as bar:
        return suggestions.refresh(db.session, ids, progress=bar.update)


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


@graph_cli.command("recount")
@click.option("--check", "check_only", is_flag=True, help="Only say whether the counts agree (exit 1 if not).")
def recount_command(check_only: bool) -> None:
    """Count each question's answer requests again (/requests and the desk read them),
    after writes made beside the app (SQL by hand, a partial restore)."""
    if check_only:
        wrong = demand.check(db.session)
        for line in wrong[:20]:
            click.echo(line, err=True)
        click.echo(f"{len(wrong)} questions miscounted" if wrong else "every question's request count agrees")
        sys.exit(1 if wrong else 0)
    moved = demand.recount(db.session)
    db.session.commit()
    click.echo(f"counted again: {moved} questions corrected")
