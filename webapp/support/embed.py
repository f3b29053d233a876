"""Plumb's progress on other sites: `/embed/support`, a small page for another site's
iframe, and `/support/progress.json`, the same figures for sites that draw their own.

Both are the same for everyone, so both are cached in public for a poll's length: they
never read or write the session (nothing here touches `session` or `current_user`, as
with the Stripe webhook), so a reader's cookie, if the browser sends one, changes nothing
and no response carries Set-Cookie (webapp/site/headers.py would otherwise mark them
private). There is no form in the frame: without a session there is no CSRF token, and
a pledge belongs on Plumb's own page, which the frame's link opens in a new tab.

The embed alone may be framed, by the sites EMBED_FRAME_ANCESTORS names (embedding.py);
every other page keeps `frame-ancestors 'none'`. The JSON is open to every origin
(`Access-Control-Allow-Origin: *`, no credentials). Registered with the support
blueprint (`register`), since neither address sits under its /support prefix alone."""
from __future__ import annotations

import hashlib
import html

from flask import Blueprint, Flask, current_app, jsonify, make_response, request, url_for
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.rendering import render, wants_fragment
from webapp.site import headers, unavailable
from webapp.support import campaigns, embedding, public
from webapp.urls import absolute_url

bp = Blueprint("embed", __name__)
POLICY = "embed_content_security_policy"  # app.extensions: the embed's CSP, made once
ANYWHERE = "embed_anywhere"  # app.extensions: EMBED_FRAME_ANCESTORS is *
NOWHERE = "frame-ancestors 'none'"
# Preflights are asked again at most this often (Chrome keeps them 2 hours at most anyway).
PREFLIGHT_SECONDS = 24 * 3600
FRAME_WIDTH, FRAME_HEIGHT = 360, 240  # the snippet's iframe, in CSS pixels


def register(app: Flask) -> None:
    """Check EMBED_FRAME_ANCESTORS (a bad entry stops the app here, at start-up), make
    the embed's policy from every page's, and add the two routes."""
    allowed = embedding.origins(app.config[embedding.SETTING])
    if NOWHERE not in headers.CSP:  # the site's policy changed shape: say so rather than frame nothing
        raise RuntimeError(f"webapp/site/headers.py's CSP no longer says {NOWHERE}; the embed replaces it")
    app.extensions[POLICY] = headers.CSP.replace(NOWHERE, "frame-ancestors " + embedding.frame_ancestors(allowed))
    app.extensions[ANYWHERE] = allowed == [embedding.ANY]
    app.register_blueprint(bp)


def _public(response):
    """The same for every reader: any cache may keep it for a poll's length, then must
    ask again (a 304 while the figures are unchanged)."""
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['SUPPORT_POLL_SECONDS']}"
    return response


def _open_to_every_site(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"  # for sites that ask with If-None-Match
    return response


def _unchanged(etag: str) -> str | None:
    """The tag the client holds if it is this one: as sent, or as Flask-Compress made it
    for a compressed body (`<etag>:br`; the page is over its 1 KiB threshold)."""
    held = [etag, *(f"{etag}:{algorithm}" for algorithm in current_app.config["COMPRESS_ALGORITHM"])]
    return next((tag for tag in held if request.if_none_match.contains(tag)), None)


def _not_modified(tag: str):
    response = make_response("", 304)
    response.set_etag(tag)
    return response


def support_url() -> str:
    """/support as an absolute URL from SITE_URL (never from the Host a request named:
    the answer is cached in public); only a development server without it says the path."""
    base = current_app.config["SITE_URL"]
    return base + url_for("support.page") if base else url_for("support.page")


@bp.get("/embed/support")
def support():
    """The goal, the supporters, the amount and the bar; polled in place like the widget."""
    campaign = campaigns.shown(db.session)
    shown = public.figures(campaign) if campaign else None
    representation = "fragment" if wants_fragment() else "page"
    etag = shown.etag(representation) if shown else _nothing_etag(representation)
    if held := _unchanged(etag):
        response = _not_modified(held)
    else:
        response = make_response(_embed(figures=shown))
        response.set_etag(etag)
    response.headers["Content-Security-Policy"] = current_app.extensions[POLICY]
    return _public(response)


def _embed(**ctx) -> str:
    return render("support/embed.html", block="figures", poll_seconds=current_app.config["SUPPORT_POLL_SECONDS"],
                  **ctx)


def _nothing_etag(representation: str) -> str:
    return hashlib.blake2s(repr(("no campaign", representation)).encode(), digest_size=12).hexdigest()


@bp.route("/support/progress.json", methods=["GET", "OPTIONS"])
def progress_json():
    """The shown campaign's public figures; 404 while there is none."""
    if request.method == "OPTIONS":
        return _preflight()
    campaign = campaigns.shown(db.session)
    if campaign is None:
        response = jsonify(error="There is no supporter campaign right now.", url=support_url())
        response.status_code = 404
        return _open_to_every_site(_public(response))
    shown = public.figures(campaign)
    etag = shown.etag("json")
    if held := _unchanged(etag):
        response = _not_modified(held)
    else:
        response = jsonify(shown.as_json(support_url()))
        response.set_etag(etag)
    return _open_to_every_site(_public(response))


def _preflight():
    """A site's script that sends headers of its own (If-None-Match, say) is asked
    about first: any header, GET only, never with credentials."""
    response = make_response("", 204)
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "*"
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
    return _open_to_every_site(response)


@bp.errorhandler(OperationalError)
def busy(error: OperationalError):
    """The database could not answer now: a 503 in the frame's own size (a poll keeps
    the figures it shows: htmx swaps no 5xx), or in JSON; never kept by a cache."""
    unavailable.settle(error)
    if request.endpoint == "embed.progress_json":
        response = _open_to_every_site(jsonify(error="Plumb is busy for a moment; ask again shortly."))
    else:
        response = make_response(_embed(figures=None, busy=True))
        response.headers["Content-Security-Policy"] = current_app.extensions[POLICY]
    response.status_code = 503
    response.headers["Retry-After"] = str(unavailable.RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def snippet(site_name: str) -> str:
    """What /support offers publishers to copy: the iframe, from SITE_URL. The frame's
    title names it for screen readers; its size fits the figures at Pico's type."""
    title = _attribute(f"{site_name}’s supporter campaign: goal and progress")
    return (f'<iframe src="{_attribute(absolute_url("embed.support"))}" title="{title}"\n'
            f'        width="{FRAME_WIDTH}" height="{FRAME_HEIGHT}" loading="lazy"></iframe>')


def _attribute(value: str) -> str:
    """A value for a double-quoted HTML attribute (an apostrophe stays as it is)."""
    return html.escape(value, quote=False).replace('"', "&quot;")


def anywhere() -> bool:
    """Whether any site may frame the embed (EMBED_FRAME_ANCESTORS=*)."""
    return current_app.extensions[ANYWHERE]


def progress_json_url() -> str:
    return absolute_url("embed.progress_json")
