"""Editing answers in the browser: the form, its live preview, saving revisions."""
from __future__ import annotations

from webapp.desk.blueprint import bp  # noqa: F401
