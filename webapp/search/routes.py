"""The search page: a plain GET form, and its results as an htmx fragment."""
from __future__ import annotations

from flask import Blueprint, request

from webapp.extensions import db
from webapp.rendering import render
from webapp.search import service

bp = Blueprint("search", __name__)


@bp.get("/search")
def search():
    raw = request.args.get("q", "")
    query = service.normalise(raw)
    results = service.search(db.session, query) if query else []
    return render("search/results.html", block="results", query=query,
                  cut=len(raw.strip()) > service.MAX_QUERY, results=results)
