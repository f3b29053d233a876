"""Jinja filters the templates share."""
from __future__ import annotations

import datetime as dt

from flask import Flask

from webapp.support.choices import pledge_summary
from webapp.support.money import format_money


def long_date(value: dt.date | None) -> str:
    """8 November 2025: unambiguous for readers everywhere."""
    return f"{value.day} {value:%B %Y}" if value else ""


def thousands(value: int) -> str:
    return f"{value:,}"


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.add_template_filter(long_date)
    app.add_template_filter(thousands)
    app.add_template_filter(format_money, "money")
    app.add_template_filter(pledge_summary)
