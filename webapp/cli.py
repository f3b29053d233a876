"""Registers the feature command groups with `flask`."""
from __future__ import annotations

from flask import Flask

from webapp.content.cli import content_cli
from webapp.search.cli import search_cli


def register(app: Flask) -> None:
    app.cli.add_command(content_cli)
    app.cli.add_command(search_cli)
