"""Where a redirect may lead: only ever to this site (no open redirects)."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import request


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` if it is a local path ("/support?x=1"), else `default`.

    Browsers read "//host", "/\\host" and "\\\\host" as other sites, and some servers
    decode "%2F%2Fhost" before redirecting, so every decoding of the value must be a
    plain local path too."""
    if not value:
        return default
    text = value
    for _ in range(3):  # a value encoded twice or three times is decoded as often
        if not _local_path(text):
            return default
        decoded = unquote(text)
        if decoded == text:
            return value
        text = decoded
    return default


def _local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def same_site_referrer() -> str | None:
    """The page the request came from, if it is on this site."""
    url = request.referrer
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.netloc == request.host and parts.scheme in ("http", "https") else None
