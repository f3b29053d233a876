"""Registers the feature command groups with `flask`."""
from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate.cli import db as db_group
from sqlalchemy import func, select

from webapp.answers.models import Question
from webapp.content import synth
from webapp.extensions import db

from webapp.accounts.cli import accounts_cli
from webapp.asking.cli import asks_cli
from webapp.following.cli import following_cli
from webapp.content.cli import content_cli, imported
from webapp.graph.cli import graph_cli, rank_with_progress, refresh_with_progress
from webapp.operations.backups import backup_command, restore_command
from webapp.search.cli import search_cli
from webapp.support.cli import support_cli


demo_cli = AppGroup("demo", help="Demo and benchmark data.")


@imported.connect
def _suggest_again(_report, **_) -> None:
    """New text changes which questions are alike: every answer's suggested related
    questions may move after an import, and with the links, the hubs."""
    refresh_with_progress()
    rank_with_progress()


@demo_cli.command("synth")
@click.option("--count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same corpus.")
@click.option("--index/--no-index", default=True, show_default=True, help="Rebuild the search index afterwards.")
def synth_command(count: int, seed: int, index: bool) -> None:
    """Generate COUNT synthetic questions straight into the database."""
    with click.progressbar(length=count, label="Generating", file=sys.stderr) as bar:
        synth.generate(db.session, count, seed=seed, progress=bar.update)
    click.echo(f"generated {count} questions")
    click.echo(f"ranked {rank_with_progress()} questions")
    if index:
        total = db.session.scalar(select(func.count()).select_from(Question)) or 0
        with click.progressbar(length=total, label="Indexing", file=sys.stderr) as bar:
            indexed = current_app.extensions["search"].rebuild(procs=min(2, os.cpu_count() or 1),
                                                               progress=bar.update)
        click.echo(f"indexed {indexed} questions")


def register(app: Flask) -> None:
    app.cli.add_command(accounts_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(graph_cli)
    app.cli.add_command(support_cli)
    app.cli.add_command(asks_cli)
    app.cli.add_command(following_cli)
    # Flask-Migrate's `flask db` group (one object per process; adding again is harmless).
    db_group.add_command(backup_command)
    db_group.add_command(restore_command)
