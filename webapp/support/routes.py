"""The supporter widget (lazy, live), pledging inside it, /support and /support/mine."""
from __future__ import annotations

import datetime as dt
import json
import logging

import stripe
from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from webapp.accounts import confirmation, limits, mail, service as accounts, sessions
from webapp.accounts.forms import LoginForm, RegisterForm
from webapp.clock import utcnow
from webapp.extensions import csrf, db, limiter
from webapp.lookups import or_404
from webapp.pagination import page_number
from webapp.redirects import same_site_referrer
from webapp.site import errors, headers, unavailable
from webapp.rendering import go, render, wants_fragment
from webapp.support import campaigns, choices, embed, payments, pledges, providers, wall
from webapp.support import widget as w
from webapp.support.models import ACTIVE, Pledge

bp = Blueprint("support", __name__, url_prefix="/support")
INBOX = "inbox"  # the widget after an inline registration: "check your inbox"
# Sent after settling, once the reader's support changed (a pledge, a cancellation, a
# login): every widget at rest on the page reloads, so the top and the foot agree.
SUPPORT_CHANGED = "support-changed"
CONFIRMED = "yes"  # the value of `confirm` that cancels a pledge
# How soon a reader may try again when the payment processor could not be reached.
PROVIDER_RETRY_SECONDS = 30
# How old a webhook's signature may be (Stripe's own default): older is a replay by someone else.
WEBHOOK_TOLERANCE_SECONDS = 300
log = logging.getLogger(__name__)


@bp.app_context_processor
def widget_here():
    return {"support_widget_here": w.shown_here()}


def _widget(status: int = 200, **ctx):
    body = render("support/_widget.html", block=None, **w.context(**ctx))
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _page(status: int = 200, **ctx):
    """/support as a whole page, with the widget in the mode `ctx` asks for."""
    context = w.context(**ctx)
    campaign = context["campaign"]
    number = page_number()
    wall_page = wall.wall(db.session, campaign, number, current_app.config["WALL_PAGE_SIZE"]) if campaign else None
    if wall_page is None and number > 1:  # past the wall's end, or no campaign and so no wall
        abort(404, description="That page is past the end of the supporter wall.")
    chart = wall.chart(db.session, campaign, utcnow().date()) if campaign else None
    # For publishers: the iframe to copy, and the JSON for sites that draw their own.
    sharing = dict(embed_snippet=embed.snippet(current_app.config["SITE_NAME"]),
                   progress_json_url=embed.progress_json_url(), embed_anywhere=embed.anywhere()) if campaign else {}
    response = make_response(render("support/page.html", block="wall" if request.args.get("page") else None,
                                    wall_page=wall_page, chart=chart, **sharing, **context), status)
    return response


@bp.record_once
def _forms_may_go_to_checkout(state) -> None:
    """Without JavaScript a pledge form (the widget is on every page) posts to Plumb,
    which answers with a redirect to the processor's hosted page; the browser follows it
    only if the page's `form-action` names that page's origin too."""
    if state.app.config["PAYMENT_PROVIDER"] == providers.STRIPE:
        headers.allow_form_action(state.app, providers.checkout_origin(state.app.config["STRIPE_API_BASE"]))


@bp.record_once
def _progress_on_other_sites(state) -> None:
    """/embed/support and /support/progress.json (embed.py): their own blueprint, since
    the embed's address is not under /support; EMBED_FRAME_ANCESTORS is checked here."""
    embed.register(state.app)


@bp.get("")
def page():
    # Back from logging in or from the confirmation mail with a pledge waiting: focus goes
    # to its Pledge button, where the reader continues (static/js/support.js).
    waiting = current_user.is_authenticated and w.draft() is not None
    # Back from the processor's Cancel: the same form, the same key, and a word on what happened.
    returned = request.args.get("pledge")
    kept = w.draft()
    if returned and kept is not None and kept.key == returned:
        return _page(draft_waiting=waiting, message="Your payment was cancelled and nothing was charged. "
                                                     "Your choices are kept below.")
    return _page(draft_waiting=waiting)


@bp.get("/widget")
def widget():
    if not wants_fragment():
        return redirect(url_for("support.page"), code=303)
    return _widget(mode=None, full=request.args.get("full") == "1")


@bp.get("/progress")
def progress():
    """The bar alone, polled: answered 304 without rendering while nothing changed."""
    if not wants_fragment():
        return redirect(url_for("support.page"), code=303)
    campaign = campaigns.shown(db.session)
    if campaign is None:
        return "", 204
    shown = campaigns.progress(campaign)
    if request.if_none_match.contains(shown.etag):
        response = make_response("", 304)
    else:
        response = make_response(render("support/_progress.html", block=None, progress=shown,
                                         id_prefix=w.ID_PREFIX[w.place()],
                                         poll_seconds=current_app.config["SUPPORT_POLL_SECONDS"]))
    response.set_etag(shown.etag)
    # The same for every reader; caches may keep it but must ask again each time.
    response.headers["Cache-Control"] = "public, no-cache"
    return response


def _refused(status: int, message: str, choice=None):
    if wants_fragment():
        return _widget(status, choice=choice, message=message)
    return _page(status, choice=choice, message=message)


REFUSED_STATUS = {pledges.Refusal.NOT_TAKING_PLEDGES: 409, pledges.Refusal.KEY_USED_ELSEWHERE: 409}


@bp.post("/pledge")
@limiter.limit(lambda: current_app.config["PLEDGE_LIMIT"],
               key_func=lambda: f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr)
def pledge():
    choice = choices.parse(request.form)
    if choice.errors:
        return _refused(422, "Please check the form: " + " ".join(choice.errors.values()), choice)
    campaign = campaigns.shown(db.session)
    if campaign is None or not campaigns.accepting(campaign, utcnow()):
        return _refused(409, "This campaign is not taking pledges now.")
    if not current_user.is_authenticated:
        w.keep_draft(choice)
        if wants_fragment():
            return _widget(mode=w.LOGIN, choice=choice)
        flash("Log in or create an account to finish your pledge; your choices are kept.")
        return redirect(url_for("accounts.login", next=url_for("support.page", _anchor="support-widget")), code=303)
    try:
        thanks = pledges.pledge(db.engine, campaign, current_user.id, choice, providers.current(),
                                email=current_user.email)
    except pledges.PledgeRefused as refused:
        # Both say the form cannot be used again as it is: a fresh form, not the old choices.
        return _refused(REFUSED_STATUS[refused.reason], str(refused))
    except providers.ProviderUnavailable as failed:
        log.warning("payment provider unavailable for a pledge: %s", failed)
        response = make_response(_refused(503, "We could not reach our payment processor. Nothing was charged "
                                               "or recorded; please try again in a moment.", choice))
        response.headers["Retry-After"] = str(PROVIDER_RETRY_SECONDS)
        return response
    if thanks.pay_at:
        # Off to the processor's page. The choices stay in the session, so its Cancel
        # (back to /support) shows the same form with the pledge's key (a new one when the
        # reader had changed the choices after an earlier Cancel).
        choice.key = thanks.reference
        w.keep_draft(choice)
        return go(thanks.pay_at)
    if thanks.status != ACTIVE:
        # This form's pledge was never paid (expired) or has ended: a fresh form, not a thank-you.
        w.drop_draft()
        return _refused(409, "This form's pledge was not paid in time or has ended, so nothing was counted. "
                             "Please pledge again with the fresh form.")
    w.drop_draft()
    campaigns.counted_now(campaign, thanks.supporters, thanks.campaign_amount_cents)
    if not wants_fragment():
        flash(f"Thank you! Your pledge of {choice.summary(thanks.currency)} is recorded.")
        return redirect(url_for("support.mine", _anchor=f"pledge-{thanks.reference}"), code=303)
    response = _widget(mode=w.THANKS, thanks=thanks, repeat=not thanks.created)
    response.headers["HX-Trigger"] = "pledged"
    response.headers["HX-Trigger-After-Settle"] = SUPPORT_CHANGED
    return response


@bp.post("/login")
@limits.login
def login():
    """Logging in inside the widget, then back to the pledge form with the choices kept."""
    form = LoginForm()
    user = accounts.authenticate(db.session, form.email.data or "", form.password.data or "")
    if user is None:
        form.password.errors = [accounts.WRONG_LOGIN]
        limits.wrong_password()
        return _widget(401, mode=w.LOGIN, choice=w.draft(), login_form=form)
    if not user.is_confirmed:  # the password matched: send the link again, and say so
        return _check_inbox(lambda: confirmation.send_link(user, _pledge_url()), user.email, waiting=True)
    sessions.sign_in(user, remember=bool(form.remember.data))
    response = _widget(mode=w.ASK, welcome=True)
    response.headers["HX-Trigger-After-Settle"] = SUPPORT_CHANGED  # the other widget says "Pledge" now
    return response


@bp.post("/register")
@limits.register
def register():
    form = RegisterForm()
    try:
        registration = accounts.register(db.session, form.email.data or "", form.display_name.data or "",
                                         form.password.data or "", link_lifetime=confirmation.link_lifetime())
    except accounts.AccountError as error:
        getattr(form, error.field).errors = [str(error)]
        return _widget(422, mode=w.REGISTER, choice=w.draft(), register_form=form)
    # Answered alike whether the address had an account or not (the mail says which).
    return _check_inbox(lambda: confirmation.send_for(registration, _pledge_url()),
                        registration.user.email)


def _pledge_url() -> str:
    """Where the confirmation link leads: the pledge, whose draft waits in the session."""
    return url_for("support.page", _anchor="support-widget")


def _check_inbox(send, email: str, waiting: bool = False):
    """Mail the link, then say to look for it, with the pledge's choices kept meanwhile."""
    try:
        send()
    except mail.MailError:
        response = _widget(503, mode=INBOX, choice=w.draft(), email=email, waiting=waiting, mail_failed=True,
                           message=mail.FAILED)
        response.headers["Retry-After"] = str(mail.RETRY_SECONDS)
        return response
    return _widget(mode=INBOX, choice=w.draft(), email=email, waiting=waiting)


@bp.get("/join")
def join():
    """Switch the widget between logging in and registering."""
    if not wants_fragment():
        return redirect(url_for("accounts.register", next=url_for("support.page")), code=303)
    return _widget(mode=w.REGISTER if request.args.get("as") == "new" else w.LOGIN, choice=w.draft())


@bp.post("/dismiss")
def dismiss():
    if wants_fragment():
        response = _widget(mode=w.SMALL)
    else:
        response = redirect(same_site_referrer() or url_for("answers.home"), code=303)
    response.set_cookie(w.DISMISS_COOKIE, "small", max_age=int(dt.timedelta(days=w.DISMISS_DAYS).total_seconds()),
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/mine")
@login_required
def mine():
    _expire_stale(current_user.id)
    return render("support/mine.html", pledges=pledges.of_user(db.session, current_user.id))


def _expire_stale(user_id: int) -> None:
    """A pending pledge older than PENDING_PLEDGE_HOURS is expired as it is read."""
    hours = dt.timedelta(hours=current_app.config["PENDING_PLEDGE_HOURS"])
    if pledges.expire(db.engine, older_than=hours, user_id=user_id):
        db.session.expire_all()  # written on its own connection


@bp.get("/thanks")
@login_required
def thanks():
    """Where Stripe sends the reader after paying: the pledge as it stands. Until the
    webhook has arrived it says so and asks again every few seconds (a plain link to
    refresh without JavaScript); then the thank-you, with the bar moved."""
    session_id = request.args.get("session_id", "")
    _expire_stale(current_user.id)
    found = db.session.scalar(select(Pledge).where(Pledge.provider_ref == session_id,
                                                   Pledge.user_id == current_user.id)) if session_id else None
    pledge = or_404(found, "There is no pledge of yours for this payment.")
    if pledge.status == ACTIVE:
        w.drop_draft()
    response = make_response(render("support/thanks.html", block="payment_status" if wants_fragment() else "content",
                                    pledge=pledge, poll_seconds=_confirming_poll(pledge)))
    response.headers["Cache-Control"] = "private, no-store"
    if wants_fragment() and pledge.status == ACTIVE:
        # Every bar on the page catches up, and the widgets at rest become the thank-you.
        response.headers["HX-Trigger"] = "pledged"
        response.headers["HX-Trigger-After-Settle"] = SUPPORT_CHANGED
    return response


# How often the thank-you asks whether Stripe's webhook has come: often at first (it comes
# within seconds), then less, then not at all; a webhook that never comes is reconcile's.
CONFIRMING_POLLS = ((dt.timedelta(minutes=2), 2), (dt.timedelta(minutes=15), 15))


def _confirming_poll(pledge: Pledge) -> int | None:
    """Seconds between the thank-you's checks while the pledge waits, or None: stop."""
    waited = utcnow() - pledge.created_at
    return next((seconds for within, seconds in CONFIRMING_POLLS if waited < within), None)


def _my_pledge(reference: str):
    return or_404(pledges.mine(db.session, current_user.id, reference), "You have no pledge at this address.")


def _asking_to_cancel(pledge, status: int = 200, message: str | None = None):
    """The question before cancelling: the row in place (htmx), or a page of its own."""
    body = render("support/cancel.html", block="row", pledge=pledge, confirming=True, message=message)
    return make_response(body, status)


@bp.get("/pledges/<reference>/cancel")
@login_required
def confirm_cancel(reference: str):
    return _asking_to_cancel(_my_pledge(reference))


@bp.post("/pledges/<reference>/cancel")
@login_required
def cancel(reference: str):
    mine = _my_pledge(reference)
    if request.form.get("confirm") != CONFIRMED:  # an old or forged form: ask, change nothing
        return _asking_to_cancel(mine, 422, "Nothing was cancelled: choose “Yes, cancel it” to cancel this pledge.")
    if not mine.cancellable and mine.active:
        return _asking_to_cancel(mine, 409, "A one-time payment has been made already; there is nothing to cancel.")
    try:
        cancelled = pledges.cancel(db.engine, mine.id, current_user.id)
    except providers.ProviderUnavailable as failed:
        log.warning("could not cancel pledge %s at the payment provider: %s", mine.id, failed)
        response = _asking_to_cancel(mine, 503, "We could not reach our payment processor, so nothing was "
                                                "cancelled. Please try again in a moment.")
        response.headers["Retry-After"] = str(PROVIDER_RETRY_SECONDS)
        return response
    db.session.expire_all()  # written on its own connection
    if not wants_fragment():
        flash("Your pledge is cancelled." if cancelled else "That pledge was cancelled already.")
        return redirect(url_for("support.mine", _anchor=f"pledge-{reference}"), code=303)
    response = make_response(render("support/_pledge_row.html", block=None, pledge=mine, just_cancelled=cancelled))
    response.headers["HX-Trigger"] = "pledged"
    if cancelled:
        response.headers["HX-Trigger-After-Settle"] = SUPPORT_CHANGED
    return response


# Endpoints whose errors are shown inside the widget; other errors get the usual page.
IN_WIDGET = {"support.pledge", "support.login", "support.register", "support.dismiss"}


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    if request.endpoint not in IN_WIDGET:
        return errors.csrf_page(error)
    return _refused(400, "The form's security token is missing or wrong. Reload the page and try again.")


@bp.errorhandler(OperationalError)
def busy(error: OperationalError):
    """The database could not take the pledge now: said inside the widget, with the
    reader's choices and key kept, so sending it again is the same pledge."""
    if request.endpoint not in IN_WIDGET:
        return unavailable.unavailable(error)
    unavailable.settle(error)
    choice = choices.parse(request.form) if request.endpoint == "support.pledge" else None
    response = make_response(_refused(503, unavailable.BUSY, choice))
    response.headers["Retry-After"] = str(unavailable.RETRY_AFTER_SECONDS)
    return response


@bp.errorhandler(429)
def too_many(error):
    if request.endpoint not in IN_WIDGET:
        return errors.error_page(error)
    response = make_response(_refused(429, "Too many attempts. Please wait a few minutes and try again."))
    if retry_after := dict(error.get_headers()).get("Retry-After"):
        response.headers["Retry-After"] = retry_after  # how long the login must wait (minutes at most)
    return response


@bp.post("/webhooks/stripe")
@csrf.exempt  # Stripe signs it instead; nothing here reads or writes the session
def stripe_webhook():
    """Stripe's events, hostile until proven otherwise: the exact bytes must carry a
    valid signature (5 minutes' tolerance) before anything is parsed or written."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        return _plain("Payments through Stripe are not configured here.", 404)
    limit = current_app.config["STRIPE_WEBHOOK_MAX_BYTES"]
    if request.content_length is None or request.content_length > limit:
        return _plain(f"An event is at most {limit} bytes, sent with its length.",
                      413 if request.content_length else 411)
    body = request.get_data(cache=False)
    try:
        stripe.WebhookSignature.verify_header(body, request.headers.get("Stripe-Signature", ""), secret,
                                              tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (ValueError, stripe.SignatureVerificationError) as refused:
        log.warning("stripe webhook refused: %s", refused)
        return _plain("The signature does not match this body.", 400)
    # Parsed here rather than by construct_event, which fails with AttributeError on a signed
    # body that is JSON but not an object (`[]`): a malformed event is a 400, never a 500.
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not _is_event(event):
        log.warning("stripe webhook refused: a signed body that is not an event")
        return _plain("That is not an event.", 400)
    try:
        # Without a secret key the webhook still works; only the look-ups a refund may need do not.
        stripe_checkout = providers.get(providers.STRIPE) if current_app.config["STRIPE_SECRET_KEY"] else None
        applied = payments.receive(db.engine, event, stripe_checkout)
    except (OperationalError, providers.ProviderUnavailable) as busy:
        if isinstance(busy, OperationalError):
            unavailable.settle(busy)
        log.warning("stripe event %s deferred: %s", event.get("id"), busy)
        response = _plain("Busy; send it again.", 503)
        response.headers["Retry-After"] = str(unavailable.RETRY_AFTER_SECONDS)
        return response
    return _plain("replayed: nothing changed" if applied.replay else applied.outcome, 200)


def _is_event(event) -> bool:
    """The shape payments.apply relies on: an id, a type, and an object under data."""
    return (isinstance(event, dict) and isinstance(event.get("id"), str) and bool(event["id"])
            and isinstance(event.get("type"), str) and isinstance(event.get("data"), dict)
            and isinstance(event["data"].get("object"), dict))


def _plain(text: str, status: int):
    response = make_response(text + "\n", status)
    response.mimetype = "text/plain"
    return response
