"""Signing in and out of the browser session (flask-login), with a fresh session each time."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from flask_login import login_user, logout_user
from flask_login.config import COOKIE_NAME

from webapp import csrf_tokens
from webapp.accounts import service
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.rendering import wants_fragment

# What survives logging in and out, named by the features that keep it (the reader's
# path, a pledge waiting for the login: keep_over_login). The CSRF token does not (a
# token planted before the login must not work after it): forms already on the page
# keep working through csrf_tokens.start_grace.
_kept: set[str] = set()


def keep_over_login(*keys: str) -> None:
    """Session entries that a new session (at login and logout) starts with."""
    _kept.update(keys)


def _renew() -> None:
    kept = {k: session[k] for k in _kept if k in session}
    previous_token = csrf_tokens.current_value()
    session.clear()
    session.update(kept)
    csrf_tokens.start_grace(previous_token)


def sign_in(user: User, remember: bool) -> None:
    _renew()
    login_user(user, remember=remember, duration=dt.timedelta(days=current_app.config["REMEMBER_DAYS"]))


def sign_in_again(user: User) -> None:
    """After the user's token changed (new password): this browser stays signed in."""
    had_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
    sign_in(user, remember=had_cookie)


def sign_out() -> None:
    _renew()
    # After renewing: flask-login leaves a note in the session that makes the response
    # delete the remember cookie, and clearing the session would lose it.
    logout_user()


def load_user(user_id: str) -> User | None:
    return service.user_by_id(db.session, user_id)


def unauthorized():
    """Logged-out readers are sent to the login page, and brought back afterwards."""
    back = request.full_path.rstrip("?") if request.method == "GET" else urlsplit(request.referrer or "").path
    target = url_for("accounts.login", next=back or None)
    if wants_fragment():
        # htmx would swap a whole login page into a small target: navigate instead.
        return "", 401, {"HX-Redirect": target}
    return redirect(target)
