"""Jinja filters the templates share."""
from __future__ import annotations

import datetime as dt

from flask import Flask


def long_date(value: dt.date | None) -> str:
    """8 November 2025: unambiguous for readers everywhere."""
    return f"{value.day} {value:%B %Y}" if value else ""


def thousands(value: int) -> str:
    return f"{value:,}"


def register(app: Flask) -> None:
    app.add_template_filter(long_date)
    app.add_template_filter(thousands)
