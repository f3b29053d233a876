"""The desk's home (/desk): what is waiting for an editor (webapp/desk/home.py), the whole
page, and each section on its own (/desk/sections/<name>: its htmx fragment, or a page
with that section alone)."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, url_for

from webapp.desk import home as lists
from webapp.desk.blueprint import bp
from webapp.extensions import db
from webapp.rendering import render

LIMIT = 10  # items per section
READING_DAYS = 30  # "most read": views over this many days


def _settings() -> lists.Settings:
    config = current_app.config
    return lists.Settings(limit=LIMIT, today=dt.date.today(), after_months=config["OUTDATED_AFTER_MONTHS"],
                          reading_days=READING_DAYS, gap_min_readers=config["GAP_MIN_READERS"],
                          seconds=config["ANSWER_SHARED_SECONDS"])


def _more(settings: lists.Settings) -> dict[str, str | None]:
    """Where each section's whole list is, where there is one."""
    last_stale_day = lists.stale_cutoff(settings.today, settings.after_months) - dt.timedelta(days=1)
    return {
        # The queue is another part of the desk: linked once it is there.
        "reports": url_for("reports.queue") if "reports.queue" in current_app.view_functions else None,
        "asks": url_for("asking.queue") if "asking.queue" in current_app.view_functions else None,
        "requests": url_for("graph.most_requested"),
        # Search's own operators list every stale answer (not by views).
        "stale": url_for("search.search", q=f"is:answered checked:1900..{last_stale_day.isoformat()}"),
        "gaps": url_for("search.search_gaps"),
        "orphans": url_for("graph.explore_orphans"),
    }


def _page(names: tuple[str, ...], block: str):
    settings = _settings()
    return render("desk/home.html", block=block, listings=lists.listings(db.session, names, settings),
                  more=_more(settings), settings=settings, whole=len(names) == len(lists.SECTIONS),
                  stale_cutoff=lists.stale_cutoff(settings.today, settings.after_months))


@bp.get("/")
def home():
    return _page(lists.SECTIONS, "content")


@bp.get("/sections/<name>")
def home_section(name: str):
    if name not in lists.SECTIONS:
        abort(404, description="The desk has no such section.")
    return _page((name,), f"section_{name}")
