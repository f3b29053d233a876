"""Who a reader is, as far as Plumb needs: their account when logged in; otherwise a
random token in the signed session cookie, set only when they first ask for something."""
from __future__ import annotations

from flask import session
from flask_login import current_user

from webapp.graph import requests


def reader_key(create: bool = False) -> str | None:
    if current_user.is_authenticated:  # an account asks once, from any browser
        return f"account:{current_user.id}"
    token = session.get("reader")
    if token is None and create:
        token = session["reader"] = requests.new_reader_token()
    return requests.requester_key(token) if token else None
