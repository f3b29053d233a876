"""Requests naming a host this site does not answer to (TRUSTED_HOSTS)."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import SecurityError


def _unknown_host(error: SecurityError):
    # Plain text: with an untrusted host no URL can be built, so no page can be drawn,
    # and nothing here should echo the host back.
    return "Unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}


def register(app: Flask) -> None:
    app.register_error_handler(SecurityError, _unknown_host)
