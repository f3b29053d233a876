"""Absolute URLs (canonical links, JSON-LD, links in mail): from SITE_URL, never from the
Host a request named; only a development server without SITE_URL uses the request's."""
from __future__ import annotations

from flask import current_app, url_for


def absolute_url(endpoint: str, **values) -> str:
    base = current_app.config["SITE_URL"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
