"""A new CSRF token whenever who is logged in changes, without breaking forms already open.

Flask-WTF keeps one random value per session and signs it into every form. If that value
survived logging in, anyone who planted a session cookie in a browser before its owner
logged in (or read a token from a page then) would hold a working token for the logged-in
session. So signing in or out starts a new value; the one before is kept a few minutes,
and a form that still carries it (a tab left open on the login page, the widget's
forms) is accepted once. After that, or after the grace period, it is refused like any
other wrong token.

Flask-WTF compares the token in the request with the session's value in `validate_csrf`;
this module's `CSRFProtect` checks the previous value with the same function (its
`token_key` names the session entry) and, when that one matches, lets Flask-WTF go on
with the current token in its place, so every other check it makes (exempt views, the
HTTPS referrer rule) still runs."""
from __future__ import annotations

import time

from flask import current_app, g, session
from flask_wtf import csrf as flask_wtf_csrf
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

PREVIOUS = "csrf_token_previous"
PREVIOUS_UNTIL = "csrf_token_previous_until"
GRACE_SECONDS = 5 * 60


def _field() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def current_value() -> str | None:
    """The session's token value now (to hand to `start_grace` after clearing the session)."""
    return session.get(_field())


def start_grace(previous: str | None) -> None:
    """The session has a new token from now on; `previous` is accepted once for a few minutes."""
    session.pop(_field(), None)
    g.pop(_field(), None)  # generate_csrf keeps the signed token for the rest of the request
    if previous:
        session[PREVIOUS], session[PREVIOUS_UNTIL] = previous, time.time() + GRACE_SECONDS
    else:
        session.pop(PREVIOUS, None)
        session.pop(PREVIOUS_UNTIL, None)


def accept_previous(sent: str | None) -> bool:
    """Whether `sent` is the token from before the last sign-in or sign-out, still within
    its grace period; using it up if so."""
    if not sent or PREVIOUS not in session:
        return False
    if not isinstance(session.get(PREVIOUS_UNTIL), (int, float)) or session[PREVIOUS_UNTIL] < time.time():
        session.pop(PREVIOUS, None)
        session.pop(PREVIOUS_UNTIL, None)
        return False
    try:
        validate_csrf(sent, token_key=PREVIOUS)
    except ValidationError:
        return False
    session.pop(PREVIOUS)
    session.pop(PREVIOUS_UNTIL)
    return True


class CSRFProtect(flask_wtf_csrf.CSRFProtect):
    """Flask-WTF's protection, accepting the token from before the last sign-in once."""

    def _get_csrf_token(self):
        sent = super()._get_csrf_token()
        if accept_previous(sent):
            return generate_csrf()  # the current token stands in for the one it replaced
        return sent
