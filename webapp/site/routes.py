"""About, health and the icon."""
from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory
from sqlalchemy import text

from webapp.extensions import db
from webapp.rendering import render

bp = Blueprint("site", __name__)


@bp.get("/about")
def about():
    return render("site/about.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers and crawlers ask for /favicon.ico whatever the page says (pages link the
    SVG): the same icon as an ICO (frontend/favicon_ico.py draws it), kept for a day
    since its name never changes."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=24 * 3600)


@bp.get("/healthz")
def healthz():
    """For load balancers: the database answers."""
    db.session.execute(text("select 1"))
    return {"status": "ok"}
