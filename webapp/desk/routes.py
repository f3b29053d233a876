"""Editing answers in the browser: the form, its live preview, saving revisions."""
from __future__ import annotations

from flask import abort

from webapp.desk.blueprint import bp


# Stubs: the endpoints other parts link to; filled in with the editing form.
@bp.route("/q/<slug:slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    abort(501)


@bp.route("/new", methods=["GET", "POST"])
def new():
    abort(501)


@bp.post("/q/<slug:slug>/recheck")
def recheck(slug: str):
    abort(501)
