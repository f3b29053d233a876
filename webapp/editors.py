"""Editor-only pages. Until accounts have an editor role, editors authenticate with
HTTP basic auth against the EDITOR_PASSWORD setting; without one the pages do not exist."""
from __future__ import annotations

import hmac

from flask import abort, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized


def require_editor() -> None:
    password = current_app.config.get("EDITOR_PASSWORD")
    if not password:
        abort(404)
    given = request.authorization.password if request.authorization else ""
    if not hmac.compare_digest((given or "").encode(), password.encode()):
        raise Unauthorized(description="This page is for editors.",
                           www_authenticate=WWWAuthenticate("basic", {"realm": "Plumb editors"}))
