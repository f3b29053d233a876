"""`flask content import DIR`, `flask content export DIR` and `flask content recount`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from blinker import Namespace
from flask.cli import AppGroup

from webapp.answers import counts
from webapp.content.exporter import export_folder, exportable_count
from webapp.content.importer import answer_files, import_folder
from webapp.extensions import db

content_cli = AppGroup("content", help="Import and export answer files (Markdown).")
# Sent after an import that created or changed questions (with its report): what other
# features redo then is wired in webapp/cli.py, so content never imports them.
imported = Namespace().signal("content-imported")


def _folder(path: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise click.BadParameter(f"{path} is not a folder", param_hint="DIR")
    return folder


@content_cli.command("import")
@click.argument("directory")
def import_command(directory: str) -> None:
    """Create or update questions from every .md file in DIRECTORY."""
    folder = _folder(directory)
    steps = 2 * len(answer_files(folder))  # read, then write
    with click.progressbar(length=steps, label="Importing", file=sys.stderr) as bar:
        report = import_folder(db.session, folder, progress=lambda _name: bar.update(1))
    for message in report.rejected:
        click.echo(f"rejected {message}", err=True)
    click.echo(report.summary())
    if report.created or report.updated:
        imported.send(report)
    if report.rejected:
        sys.exit(1)


@content_cli.command("export")
@click.argument("directory")
def export_command(directory: str) -> None:
    """Write every question that came from a file into DIRECTORY."""
    folder = Path(directory)
    with click.progressbar(length=exportable_count(db.session), label="Exporting", file=sys.stderr) as bar:
        count = export_folder(db.session, folder, progress=lambda _name: bar.update(1))
    click.echo(f"exported {count} files to {folder}")


@content_cli.command("recount")
@click.option("--check", "check_only", is_flag=True, help="Only say whether the counts agree (exit 1 if not).")
def recount_command(check_only: bool) -> None:
    """Count each category's answers again (the home page's and category pages' figures),
    after writes made beside the app (SQL by hand, a partial restore)."""
    wrong = counts.check(db.session)
    for line in wrong:
        click.echo(line, err=True)
    if check_only:
        click.echo(f"{len(wrong)} categories miscounted" if wrong else "every category's count agrees")
        sys.exit(1 if wrong else 0)
    counts.recount(db.session)
    db.session.commit()
    click.echo(f"counted again: {len(wrong)} categories corrected")
