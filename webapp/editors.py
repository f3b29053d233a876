"""Editor-only pages: for accounts with the editor role (`flask accounts editor EMAIL`)."""
from __future__ import annotations

from flask import abort, make_response
from flask_login import current_user

from webapp.extensions import login_manager


def require_editor() -> None:
    if not current_user.is_authenticated:
        # To the login page and back here afterwards; for htmx a 401 with HX-Redirect
        # (a tuple, which abort() takes only once it is a response).
        abort(make_response(login_manager.unauthorized()))
    if not current_user.is_editor:
        abort(403, description="This page is for editors.")
