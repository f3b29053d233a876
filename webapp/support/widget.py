"""What the supporter widget shows, in each of its modes and places, for the current reader."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.accounts.forms import LoginForm, RegisterForm
from webapp.accounts.sessions import keep_over_login
from webapp.extensions import db
from webapp.support import campaigns, choices, pledges
from webapp.support.choices import Choice
from webapp.support.models import CampaignSupporter

# COMPACT is the ask above an answer: headline, sentence, bar, "Support". THANKED is a
# supporter's one line and bar, in both places, instead of asking again.
ASK, SMALL, LOGIN, REGISTER, THANKS = "ask", "small", "login", "register", "thanks"
COMPACT, THANKED = "compact", "thanked"
DISMISS_COOKIE = "plumb_support"
DISMISS_DAYS = 7
DRAFT = "pledge_draft"
keep_over_login(DRAFT)  # the pledge a reader chose waits for their login

# Where a widget stands on the page. A page may hold both, so every id inside the top
# one carries a prefix; its requests say `at=top` (hx-vals on its root).
FOOT, TOP = "foot", "top"
ID_PREFIX = {FOOT: "", TOP: "top-"}

# Pages with forms of their own, where a second "Continue" under "Create account" would
# confuse: the whole accounts blueprint (log in, register, confirm, the account page).
WIDGET_FREE_BLUEPRINTS = {"accounts"}


def place() -> str:
    return TOP if request.values.get("at") == TOP else FOOT


def shown_here() -> bool:
    """Whether this page carries the supporter widget at its foot."""
    return not has_request_context() or request.blueprint not in WIDGET_FREE_BLUEPRINTS


def dismissed() -> bool:
    return request.cookies.get(DISMISS_COOKIE) == "small"


def supporting(campaign) -> bool:
    """The logged-in reader has an active pledge in `campaign` (its counter row says so)."""
    if campaign is None or not current_user.is_authenticated:
        return False
    active = db.session.scalar(select(CampaignSupporter.active_pledges).where(
        CampaignSupporter.campaign_id == campaign.id, CampaignSupporter.user_id == current_user.id))
    return bool(active)


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


def _with_prefixed_ids(form, prefix: str):
    """The accounts form with ids of its own, so two on one page never share one."""
    if form is not None and prefix:
        for field in form:
            if not field.id.startswith(prefix):
                field.id = prefix + field.id
    return form


def loaded_mode(campaign, full: bool) -> str:
    """The mode a widget loads in: the form when asked for; a supporter's thanks; the
    small line for a week after "Not now"; else the ask (compact above an answer)."""
    if full:
        return ASK
    if supporting(campaign):
        return THANKED
    if dismissed():
        return SMALL
    return COMPACT if place() == TOP else ASK


def context(mode: str | None = ASK, choice: Choice | None = None, message: str | None = None, at: str | None = None,
            **extra) -> dict:
    """Everything `support/_widget.html` needs; mode None: as loaded (`loaded_mode`)."""
    campaign = campaigns.shown(db.session)
    if mode is None:
        mode = loaded_mode(campaign, full=extra.pop("full", False))
    at = at or place()
    prefix = ID_PREFIX[at]
    if mode == ASK and choice is None:
        choice = draft() or fresh_choice()
    login_form = extra.pop("login_form", None) or (LoginForm(next="/support") if mode == LOGIN else None)
    register_form = extra.pop("register_form", None) or (RegisterForm(next="/support") if mode == REGISTER else None)
    return dict(
        campaign=campaign, progress=campaigns.progress(campaign) if campaign else None,
        mode=mode, choice=choice, message=message, presets=choices.PRESETS,
        poll_seconds=current_app.config["SUPPORT_POLL_SECONDS"], at=at, id_prefix=prefix,
        login_form=_with_prefixed_ids(login_form, prefix), register_form=_with_prefixed_ids(register_form, prefix),
        logged_in=current_user.is_authenticated, on_support_page=_on_support_page(), **extra,
    )
