"""Editor-only pages: for accounts with the editor role (`flask accounts editor EMAIL`)."""
from __future__ import annotations

from functools import wraps

from flask import abort, make_response
from flask_login import current_user

from webapp.extensions import login_manager


def editor_required(view):
    """Like flask-login's `login_required`, and the account must be an editor's."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            # To the login page and back here afterwards; for htmx a 401 with HX-Redirect
            # (a tuple, which abort() takes only once it is a response).
            abort(make_response(login_manager.unauthorized()))
        if not current_user.is_editor:
            abort(403, description="This page is for editors.")
        return view(*args, **kwargs)

    return guarded
