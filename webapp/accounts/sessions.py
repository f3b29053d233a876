"""Signing in and out of the browser session (flask-login), with a fresh session each time."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from flask_login import login_user, logout_user
from flask_login.config import COOKIE_NAME

from webapp.accounts import service
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.rendering import wants_fragment

# What survives logging in: the reader's path, a pledge waiting for the login, and the
# CSRF token, so forms already on the page (and in other tabs) keep working.
KEPT = ("trail", "pledge_draft", "csrf_token")


def _renew() -> None:
    kept = {k: session[k] for k in KEPT if k in session}
    session.clear()
    session.update(kept)


def sign_in(user: User, remember: bool) -> None:
    _renew()
    login_user(user, remember=remember, duration=dt.timedelta(days=current_app.config["REMEMBER_DAYS"]))


def sign_in_again(user: User) -> None:
    """After the user's token changed (new password): this browser stays signed in."""
    had_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
    sign_in(user, remember=had_cookie)


def sign_out() -> None:
    logout_user()
    _renew()


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
