"""The editors' desk blueprint: every /desk route is for editors (a reader gets 403, an
htmx request too; a visitor is sent to log in). Its routes live in routes.py (editing)
and home_routes.py (the desk's home); reports.routes adds the reports queue."""
from __future__ import annotations

from flask import Blueprint

from webapp.editors import editor_required

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.before_request
@editor_required
def editors_only() -> None:
    return None
