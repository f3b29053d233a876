"""The desk's home (/desk): what is waiting for an editor."""
from __future__ import annotations

from webapp.desk.blueprint import bp  # noqa: F401
