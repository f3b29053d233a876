"""An answer's history and the site's corrections, for readers."""
from __future__ import annotations

from flask import Blueprint

from webapp.revisions import service  # noqa: F401 - its models, and the importer's revisions

bp = Blueprint("revisions", __name__)
