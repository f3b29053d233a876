"""Readers' reports of errors: the form on every answer, and the editors' queue."""
from __future__ import annotations

from flask import Blueprint

from webapp.reports import models  # noqa: F401

bp = Blueprint("reports", __name__)
