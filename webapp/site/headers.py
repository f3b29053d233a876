"""Headers every response carries: caching variance, a strict content policy, no caching
of anything drawn from the session and, in production, HSTS."""
from __future__ import annotations

from flask import Flask, Response, current_app, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

# No inline scripts or styles anywhere: htmx reads its config from a <meta> tag.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def allow_form_action(app: Flask, origin: str) -> None:
    """Let every page's forms lead to `origin` as well: a feature whose form posts to
    Plumb, which answers with a redirect elsewhere (a payment processor's hosted page),
    says so when the app is made. Browsers hold a redirect after a form to form-action."""
    app.extensions.setdefault("csp_form_action", []).append(origin)


def _policy() -> str:
    extra = current_app.extensions.get("csp_form_action")
    return CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(extra)) if extra else CSP


class _ReadTrackingSession(SecureCookieSession):
    """The signed-cookie session, noting whether anything was read from it or written.

    Flask's own `accessed` flag cannot tell: it is set whenever the session object is
    merely handed out (to every template's context, and to flask-login's after-request
    hook), so every response would look personal."""

    drawn_on = False

    def __getitem__(self, key):
        self.drawn_on = True
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.drawn_on = True
        return super().get(key, default)

    def __contains__(self, key) -> bool:
        self.drawn_on = True
        return super().__contains__(key)

    def setdefault(self, key, default=None):
        self.drawn_on = True
        return super().setdefault(key, default)


class _SessionInterface(SecureCookieSessionInterface):
    session_class = _ReadTrackingSession


def _drew_on_the_session() -> bool:
    """Whether the view or its templates read or wrote the session (a session of
    another kind counts as read: safe, if less cacheable)."""
    opened = session._get_current_object()
    return opened.modified or getattr(opened, "drawn_on", True)


def _add_headers(response: Response) -> Response:
    # Pages and their htmx fragments share URLs, so caches must key on HX-Request.
    response.vary.add("HX-Request")
    response.headers.setdefault("Content-Security-Policy", _policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if _drew_on_the_session():
        # What this response says came partly from the reader's session (who is logged in,
        # their CSRF token, their path, a pledge's key): no cache may keep it or hand it
        # to anyone else, whatever the view chose.
        response.headers["Cache-Control"] = "private, no-store"
    # Browsers remember to use only HTTPS here. Sent in production only: a development
    # server on http://127.0.0.1 must not teach the browser HTTPS for localhost.
    seconds = current_app.config["HSTS_SECONDS"]
    if current_app.config["PLUMB_ENV"] == "production" and seconds > 0:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def register(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    app.after_request(_add_headers)
