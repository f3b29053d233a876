"""Error pages: every 4xx/5xx is a real page (or fragment) with a way to go on."""
from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from webapp.extensions import db
from webapp.request_ids import request_id
from webapp.rendering import render

TITLES = {
    400: "That request did not make sense to us",
    401: "Please log in",
    403: "This page is not open to you",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That has been done already",
    413: "That request is too large",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Busy for a moment",
}


# Said in Plumb's voice when the code that refused gave no reason of its own (werkzeug's
# stock sentences, "The requested URL was not found on the server…", otherwise).
PLAIN_WORDS = {
    400: "We could not make sense of that request. Go back and try again.",
    403: "This page is not open to you.",
    404: "There is nothing at this address. It may have moved, or the link may be mistyped.",
    405: "That action is not allowed here.",
    413: "That request is larger than this site accepts.",
    429: "That was a lot of requests in a short time. Please wait a moment and try again.",
    500: "We have been told about it. Please try again in a moment.",
    503: "Plumb is busy for a moment. Please try again shortly.",
}


def _message(error: HTTPException, code: int) -> str:
    stock = type(error).description
    if code == 500 or not error.description or error.description == stock:
        return PLAIN_WORDS.get(code, error.description or "")
    return error.description


def error_page(error: HTTPException):
    code = error.code or 500
    title = TITLES.get(code, error.name)
    message = _message(error, code)
    # On our own failures, the reference that finds this request's log lines.
    reference = request_id() if code >= 500 else None
    body = render("site/error.html", error_title=title, message=message, code=code, reference=reference)
    # Keep what the error says in headers (Allow on 405, Retry-After on 429), not its body type.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, code, headers


def csrf_page(error: CSRFError):
    return error_page(BadRequest(description=f"The form's security token is missing or wrong ({error.description}) "
                                        "Reload the page and try again."))


def _unexpected(error: Exception):
    # Roll back so a broken transaction cannot leak into the next request.
    db.session.rollback()
    current_app.logger.exception("unhandled error", exc_info=error)
    return error_page(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_page)
    app.register_error_handler(HTTPException, error_page)
    app.register_error_handler(Exception, _unexpected)
