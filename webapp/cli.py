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
from webapp.database import analyze
from webapp.synthetic import readers
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
def _suggest_again(report, **_) -> None:
    """New text changes which questions are alike: the suggested related questions of
    the answers around the changed ones may move after an import, and with the links,
    the hubs."""
    refresh_with_progress(report.changed_ids)
    rank_with_progress()


@demo_cli.command("synth")
@click.option("--count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same corpus.")
@click.option("--accounts", type=click.IntRange(0, 1_000_000), default=0, show_default=True,
              help="Confirmed accounts synth-user-ID@example.org, all with the password synthetic.readers.SYNTH_PASSWORD.")
@click.option("--pledges", type=click.IntRange(0, 10_000_000), default=0, show_default=True,
              help="Recorded pledges by the synthetic accounts to the campaign shown (made if there is none).")
@click.option("--signals-days", type=click.IntRange(0, 3660), default=0, show_default=True,
              help="Daily reader signals (views, follows, recentres, requests) for the last N days.")
@click.option("--index/--no-index", default=True, show_default=True, help="Rebuild the search index afterwards.")
def synth_command(count: int, seed: int, accounts: int, pledges: int, signals_days: int, index: bool) -> None:
    """Generate COUNT synthetic questions straight into the database (COPY on PostgreSQL),
    and if asked accounts, pledges and daily signals."""
    refused = readers.refusal(db.session, pledges=pledges, accounts=accounts, signals_days=signals_days)
    if refused:
        raise click.UsageError(refused)
    with click.progressbar(length=count, label="Questions", file=sys.stderr) as bar:
        synth.generate(db.session, count, seed=seed, progress=bar.update)
    click.echo(f"generated {count} questions")
    try:
        if accounts:
            with click.progressbar(length=accounts, label="Accounts", file=sys.stderr) as bar:
                readers.make_accounts(db.session, accounts, seed=seed, progress=bar.update)
            click.echo(f"made {accounts} confirmed accounts synth-user-ID@example.org, "
                       f"password {readers.SYNTH_PASSWORD!r}")
        if pledges:
            with click.progressbar(length=pledges, label="Pledges", file=sys.stderr) as bar:
                made = readers.make_pledges(db.session, pledges, seed=seed, progress=bar.update)
            click.echo(made.line())
        if signals_days:
            with click.progressbar(length=signals_days, label="Signals", file=sys.stderr) as bar:
                signals = readers.make_signals(db.session, signals_days, seed=seed, progress=bar.update)
            click.echo(signals.line())
    except readers.SynthError as refused:  # found only once writing (refusal() checks first)
        raise click.ClickException(str(refused)) from None
    analyze(db.session.connection())  # what it loaded, before anything reads it
    db.session.commit()
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
