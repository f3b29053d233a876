"""Forms are posted from this site's own pages: a POST whose Origin (or, without one,
Referer) names another site is refused before anything reads it.

The CSRF token is the main defence; this is the second one browsers make cheap (OWASP's
"verifying origin with standard headers"). Only the host is compared, since the host
was already checked against TRUSTED_HOSTS; the scheme is left out because behind a
TLS-terminating proxy without PROXY_COUNT the app sees http while the browser says
https. A request with neither header (some privacy tools strip both) is left to the
token alone; `Origin: null` (a sandboxed frame, a file, a data: URL) is refused."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _own_hosts() -> set[str]:
    hosts = {request.host}
    if site_url := current_app.config.get("SITE_URL"):
        hosts.add(urlsplit(site_url).netloc)
    return hosts


def _refuse_other_sites() -> None:
    if request.method in SAFE_METHODS:
        return
    claimed = request.headers.get("Origin") or request.headers.get("Referer")
    if claimed is None:
        return
    if claimed == "null" or urlsplit(claimed).netloc not in _own_hosts():
        abort(403, description="That form was sent from another site, so we did not act on it. "
                               "Go to the page on this site and send it from there.")


def register(app: Flask) -> None:
    # Ahead of the CSRF check, which would otherwise answer first with a vaguer 400.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_other_sites)
