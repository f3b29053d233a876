"""About and health pages."""
from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from webapp.extensions import db
from webapp.rendering import render

bp = Blueprint("site", __name__)


@bp.get("/about")
def about():
    return render("site/about.html")


@bp.get("/healthz")
def healthz():
    """For load balancers: the database answers."""
    db.session.execute(text("select 1"))
    return {"status": "ok"}
