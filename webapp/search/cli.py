"""`flask search sync | rebuild | check | optimize | gaps`."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from webapp.answers.models import Question
from webapp.extensions import db
from webapp.search import gaps
from webapp.search.index import IndexUnavailable
from webapp.search.meaning import store as meaning

search_cli = AppGroup("search", help="Keep the search engine's documents true to the database.")


def _engine():
    return current_app.extensions["search"]


def _unavailable(error: IndexUnavailable) -> None:
    """A missing or unreadable Whoosh index, said plainly (exit 1), not as a traceback."""
    click.echo(f"{error}: run `flask search rebuild` (a serving process also rebuilds it on its next search)",
               err=True)
    sys.exit(1)


@search_cli.command("sync")
def sync_command() -> None:
    """Apply every change not yet searchable (Whoosh's outbox; PostgreSQL has none)."""
    result = _engine().sync()
    if result.rebuilt:
        click.echo("the index was missing or unreadable: rebuilt from the database")
    click.echo(f"applied {result.applied} change(s)")
    missing = meaning.missing(db.engine)
    if missing:
        with click.progressbar(length=len(missing), label="Vectors", file=sys.stderr) as bar:
            computed = meaning.fill(db.engine, missing, progress=bar.update)
        click.echo(f"computed {computed} vector(s) for search by meaning")
    if result.busy:
        click.echo("the index is locked by another writer; run sync again", err=True)
        sys.exit(1)


@search_cli.command("rebuild")
@click.option("--procs", type=int, default=min(2, os.cpu_count() or 1), show_default=True,
              help="Indexing processes (Whoosh's multiprocessing writer; PostgreSQL ignores it).")
def rebuild_command(procs: int) -> None:
    """Re-index every question from the database, with a progress bar."""
    total = db.session.scalar(select(func.count()).select_from(Question)) or 0
    with click.progressbar(length=total, label="Indexing", file=sys.stderr) as bar:
        count = _engine().rebuild(procs=procs, progress=bar.update)
    click.echo(f"indexed {count} questions")


@search_cli.command("check")
def check_command() -> None:
    """Report documents missing from, extra in, or stale in the index; exit 1 on drift."""
    try:
        drift = _engine().check()
    except IndexUnavailable as error:
        _unavailable(error)
    with db.engine.connect() as connection:
        drift.vectors_missing, drift.vectors_stale = meaning.drift(connection)
    for kind in ("missing", "extra", "stale", "vectors_missing", "vectors_stale"):
        slugs = getattr(drift, kind)
        if slugs:
            shown = ", ".join(slugs[:10]) + (f" and {len(slugs) - 10} more" if len(slugs) > 10 else "")
            click.echo(f"{kind.replace('_', ' ')}: {len(slugs)} ({shown})")
    if drift.clean:
        click.echo("the index matches the database")
    else:
        click.echo("drift found: run `flask search sync`, or `flask search rebuild`", err=True)
        sys.exit(1)


@search_cli.command("optimize")
def optimize_command() -> None:
    """Whoosh: merge the index's segments into one (offline). PostgreSQL: VACUUM ANALYZE the documents."""
    try:
        _engine().optimize()
    except IndexUnavailable as error:
        _unavailable(error)
    click.echo("optimized")


@search_cli.command("gaps")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--min-readers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Only gaps met by this many readers (editors' page: GAP_MIN_READERS).")
def gaps_command(limit: int, min_readers: int) -> None:
    """Searches that found nothing, most frequent first (the count is of readers, once a day each)."""
    rows = gaps.top(db.session, limit, min_readers=min_readers)
    if not rows:
        click.echo("no gaps recorded")
    for gap in rows:
        click.echo(f"{gap.count:6d}  {gap.last_seen:%Y-%m-%d}  {gap.query}")
