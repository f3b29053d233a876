"""`flask`'s commands and Flask-Migrate, bound to the app when something first asks.

A server's worker never runs a command: binding them at start-up imported every
feature's command module, and Flask-Migrate with Alembic, 11 MB in every worker for
nothing (issue 18). `flask …` lists or finds a command through `app.cli`, which loads
them all then; code that migrates without the command line (tests) calls
`migrations(app)` first."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from webapp import config
from webapp.extensions import db

MIGRATIONS = config.ROOT / "migrations"


def migrations(app: Flask) -> None:
    """Flask-Migrate bound to `app`, with its `flask db` group (once)."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)


class Commands(AppGroup):
    """The app's command group, filled the first time a command line looks into it."""

    def __init__(self, app: Flask):
        super().__init__(name=app.name)  # as Flask names its own
        self._app = app
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            from webapp import cli

            migrations(self._app)
            cli.register(self._app)
            self._loaded = True  # after: a failed import is raised again, not an empty list

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)
