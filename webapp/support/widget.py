"""What the supporter widget shows, in each of its modes, for the current reader."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, session, url_for
from flask_login import current_user

from webapp.accounts.forms import LoginForm, RegisterForm
from webapp.accounts.sessions import keep_over_login
from webapp.extensions import db
from webapp.support import campaigns, choices, pledges
from webapp.support.choices import Choice

ASK, SMALL, LOGIN, REGISTER, THANKS = "ask", "small", "login", "register", "thanks"
DISMISS_COOKIE = "plumb_support"
DISMISS_DAYS = 7
DRAFT = "pledge_draft"
keep_over_login(DRAFT)  # the pledge a reader chose waits for their login


def dismissed() -> bool:
    return request.cookies.get(DISMISS_COOKIE) == "small"


def draft() -> Choice | None:
    """The pledge a reader chose before logging in, kept in the session meanwhile."""
    saved = session.get(DRAFT)
    if not isinstance(saved, dict):
        return None
    choice = choices.parse(saved)
    choice.errors = {}
    return choice


def keep_draft(choice: Choice) -> None:
    session[DRAFT] = choice.as_form()


def drop_draft() -> None:
    session.pop(DRAFT, None)


def fresh_choice() -> Choice:
    return Choice(key=pledges.new_key())


def _on_support_page() -> bool:
    """The campaign page shows the ask in full: no "Not now" there."""
    page = url_for("support.page")
    return request.path == page or urlsplit(request.headers.get("HX-Current-URL", "")).path == page


def context(mode: str = ASK, choice: Choice | None = None, message: str | None = None, **extra) -> dict:
    """Everything `support/_widget.html` needs."""
    campaign = campaigns.shown(db.session)
    if mode == ASK and choice is None:
        choice = draft() or fresh_choice()
    return dict(
        campaign=campaign, progress=campaigns.progress(campaign) if campaign else None,
        mode=mode, choice=choice, message=message, presets=choices.PRESETS,
        poll_seconds=current_app.config["SUPPORT_POLL_SECONDS"],
        login_form=extra.pop("login_form", None) or (LoginForm(next="/support") if mode == LOGIN else None),
        register_form=extra.pop("register_form", None) or (RegisterForm(next="/support") if mode == REGISTER else None),
        logged_in=current_user.is_authenticated, on_support_page=_on_support_page(), **extra,
    )
