"""Editor-only pages: for accounts with the editor role (`flask accounts editor EMAIL`)."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from webapp.extensions import login_manager


def require_editor() -> None:
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())  # to the login page, and back here afterwards
    if not current_user.is_editor:
        abort(403, description="This page is for editors.")
