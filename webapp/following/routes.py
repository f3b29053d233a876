"""Following: the Follow button on every question, /account/following, the private feed,
and unsubscribing from the digest by the link in a message."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, make_response, request, url_for
from flask_login import current_user, login_required
from feedgen.feed import FeedGenerator

from webapp.answers import service as answers
from webapp.extensions import csrf, db
from webapp.following import digest, service
from webapp.following.models import FollowSettings
from webapp.lookups import or_404
from webapp.pagination import page_number
from webapp.rendering import go, render, wants_fragment
from webapp.urls import absolute_url

bp = Blueprint("following", __name__)
PAGE_SIZE = 20
NO_LINK = "This link is not valid. Open the newest message we sent you, or change what we send on your account."


@bp.record_once
def _account_part(state) -> None:
    """/account links the followed questions through this global (accounts does not import following)."""
    state.app.jinja_env.globals["followed_count"] = lambda: service.count(db.session, current_user.id) \
        if current_user.is_authenticated else 0


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the button on every question -------------------------------------------------------------

@bp.post("/q/<slug:slug>/follow")
@login_required
def follow(slug: str):
    question = or_404(answers.question_by_slug(db.session, slug), answers.NO_QUESTION)
    action = request.form.get("action", "follow")
    if action not in ("follow", "unfollow"):
        abort(400, description="Choose follow or unfollow.")
    if action == "follow":
        service.follow(db.session, current_user.id, question.id)
    else:
        service.unfollow(db.session, current_user.id, question.id)
    db.session.commit()
    if not wants_fragment():
        return go(url_for("answers.question", slug=slug, _anchor="follow"))
    following = service.is_following(db.session, current_user.id, question.id)
    return _private(make_response(render("following/_follow.html", block=None, question=question,
                                         follow_state=following, just_changed=action)))


# --- /account/following -------------------------------------------------------------------------

def _mine_page(status: int = 200, **ctx):
    page = or_404(service.followed(db.session, current_user.id, page_number(), PAGE_SIZE),
                  "That page is past the end of the questions you follow.")
    settings = db.session.get(FollowSettings, current_user.id)
    feed_url = absolute_url("following.feed", token=settings.feed_token) if settings else None
    body = render("following/mine.html", block="following_list", page=page, settings=settings, feed_url=feed_url,
                  mail_on=bool(current_app.config.get("MAIL_SERVER")), **ctx)
    return _private(make_response(body, status))


@bp.get("/account/following")
@login_required
def mine():
    return _mine_page()


@bp.post("/account/following/feed")
@login_required
def renew_feed():
    service.renew_feed_token(db.session, current_user.id)
    db.session.commit()
    if not wants_fragment():
        return go(url_for("following.mine", _anchor="private-feed"))
    return _mine_page(renewed=True)


@bp.post("/account/following/email")
@login_required
def email_choice():
    wanted = request.form.get("email_digest")
    if wanted not in ("on", "off"):
        abort(400, description="Choose on or off.")
    service.set_email_digest(db.session, current_user.id, wanted == "on")
    db.session.commit()
    if not wants_fragment():
        return go(url_for("following.mine", _anchor="email-digest"))
    return _mine_page(email_changed=True)


# --- the private feed ----------------------------------------------------------------------------

@bp.get("/following/feed/<token>.atom")
def feed(token: str):
    """The changes to one account's followed questions, newest first, for a feed reader:
    the secret address is the only key (no session, no cookie); renewing it ends this one."""
    user_id = service.owner_of_feed(db.session, token)
    if user_id is None:
        abort(404, description="There is no feed at this address; its owner may have renewed it.")
    changes = service.changes_for(db.session, user_id)
    site = current_app.config["SITE_NAME"]
    self_url = absolute_url("following.feed", token=token)
    generator = FeedGenerator()
    generator.id(self_url)
    generator.title(f"Questions you follow on {site}")
    generator.author({"name": site})
    generator.link(href=self_url, rel="self")
    generator.link(href=absolute_url("following.mine"), rel="alternate")
    generator.updated(_aware(changes[0].created_at) if changes else _aware(None))
    for change in reversed(changes):  # feedgen puts the last added first
        entry = generator.add_entry()
        page = absolute_url("answers.question", slug=change.slug)
        entry.id(f"{page}#change-{change.id}")
        entry.title(f"{digest.WORDS.get(change.kind, change.kind)}: {change.text}")
        entry.link(href=page)
        entry.updated(_aware(change.created_at))
        entry.summary(f"{digest.WORDS.get(change.kind, change.kind)} on {change.created_at:%d %B %Y}.")
    response = make_response(generator.atom_str(pretty=True))
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _aware(moment: dt.datetime | None) -> dt.datetime:
    """The database keeps UTC without a zone; feeds want it said."""
    return (moment or dt.datetime(2000, 1, 1)).replace(tzinfo=dt.timezone.utc)


# --- unsubscribing from the digest --------------------------------------------------------------

@bp.route("/following/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the key, so a mail client's one-click POST (RFC 8058) works
def unsubscribe(token: str):
    """GET: a page with one button (link checkers that open every link in a message must
    not unsubscribe anyone); POST: done, from that button or a mail client's one click."""
    user_id = digest.user_of_token(token)
    if user_id is None or db.session.get(FollowSettings, user_id) is None:
        abort(404, description=NO_LINK)
    if request.method == "POST":
        service.set_email_digest(db.session, user_id, False)
        db.session.commit()
    response = make_response(render("following/unsubscribe.html", block=None, token=token,
                                    done=request.method == "POST"))
    response.headers["Cache-Control"] = "no-store"
    return response
