"""Who a logged-out reader is, as far as Plumb needs: a random token in the signed
session cookie, set only when they first ask for something (pages stay cookie-free)."""
from __future__ import annotations

from flask import session

from webapp.graph import requests


def reader_key(create: bool = False) -> str | None:
    token = session.get("reader")
    if token is None and create:
        token = session["reader"] = requests.new_reader_token()
    return requests.requester_key(token) if token else None
