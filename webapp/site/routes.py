"""About, health and the icon."""
from __future__ import annotations

from flask import Blueprint, redirect, url_for
from sqlalchemy import text

from webapp.extensions import db
from webapp.rendering import render

bp = Blueprint("site", __name__)


@bp.get("/about")
def about():
    return render("site/about.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers and crawlers ask for /favicon.ico whatever the page says: the SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
def healthz():
    """For load balancers: the database answers."""
    db.session.execute(text("select 1"))
    return {"status": "ok"}
