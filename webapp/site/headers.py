"""Headers every response carries: caching variance, a strict content policy and, in
production, HSTS."""
from __future__ import annotations

from flask import Flask, Response, current_app

# No inline scripts or styles anywhere: htmx reads its config from a <meta> tag.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _add_headers(response: Response) -> Response:
    # Pages and their htmx fragments share URLs, so caches must key on HX-Request.
    response.vary.add("HX-Request")
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    # Browsers remember to use only HTTPS here. Sent in production only: a development
    # server on http://127.0.0.1 must not teach the browser HTTPS for localhost.
    seconds = current_app.config["HSTS_SECONDS"]
    if current_app.config["PLUMB_ENV"] == "production" and seconds > 0:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def register(app: Flask) -> None:
    app.after_request(_add_headers)
