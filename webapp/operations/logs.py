"""One log line per request, with its id (webapp/request_ids.py): JSON in production, a
readable line in development.

Every line the app logs (its `webapp.*` loggers all end at `app.logger`) goes through one
handler that adds the request's id, so the reference a reader quotes from an error page
finds every line of that request. Query values never reach a log (search terms and
`next` addresses can be personal), nor does anything of the user but their number.
A failure to log is dropped: logging never breaks a request."""
from __future__ import annotations

import logging
import sys
from urllib.parse import quote

from flask import Flask, Response, g, request, session
from flask.logging import default_handler
from flask_login import AnonymousUserMixin
from pythonjsonlogger.json import JsonFormatter

from webapp.request_ids import request_id

PATH_CHARS = 300  # a longer path is cut: an attacker's megabyte URL is not worth storing
QUERY_KEYS = 20
# Kept as they are in a logged path; anything else is %-escaped, so a line stays one line.
PATH_SAFE = "/:@!$&'()*+,;=-._~"

requests_log = logging.getLogger("webapp.requests")


def loggable_path() -> str:
    """The path, and the query's keys without their values: `/search?q&page`."""
    path = quote(request.path, safe=PATH_SAFE)[:PATH_CHARS]
    keys = list(dict.fromkeys(request.args.keys()))[:QUERY_KEYS]
    if keys:
        path += "?" + "&".join(quote(key, safe="")[:40] for key in keys)
    return path


def user_id() -> int | None:
    """The logged-in user's number, without loading the user for it.

    flask-login keeps the user in `g._login_user` once something asked for it, and the
    session says "id:token". `dict.get`, not `session.get`: reading through the session
    marks it read, which makes a response personal (webapp/site/headers.py) that never
    looked at it."""
    if isinstance(g.get("_login_user"), AnonymousUserMixin):
        return None  # looked up, and nobody (or a stale session) is logged in
    number = str(dict.get(session._get_current_object(), "_user_id") or "").partition(":")[0]
    return int(number) if number.isdigit() else None


def log_request(response: Response, seconds: float) -> None:
    """The request's one line: method, path (no query values), status, duration, user."""
    try:
        method, path, status = quote(request.method[:16], safe=""), loggable_path(), response.status_code
        duration_ms = round(seconds * 1000, 1)
        user = user_id()
        requests_log.info("%s %s %s %.1f ms user=%s", method, path, status, duration_ms,
                          user if user is not None else "-",
                          extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms,
                                 "user_id": user})
    except Exception:  # a log line is never worth a failed request
        pass


# --- formatting ------------------------------------------------------------------------

class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = request_id()
        except Exception:
            record.request_id = None
        return True


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(process)d [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def json_formatter() -> JsonFormatter:
    # python-json-logger: a kept library that also writes the extras, exceptions and stack
    # traces of a record as fields, which a small formatter of our own would have to redo.
    return JsonFormatter("{levelname}{name}{process}{request_id}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger", "process": "pid"})


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (gunicorn and systemd
    collect stderr; a test runner swaps it between tests)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ sets it; the property decides
        pass


def configure(app: Flask) -> None:
    """One handler on the app's logger ("webapp"), in place of Flask's default one."""
    logger = app.logger
    logger.removeHandler(default_handler)
    for handler in [h for h in logger.handlers if isinstance(h, StderrHandler)]:
        logger.removeHandler(handler)  # a second app in this process (tests) replaces the first's
    handler = StderrHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter() if app.config["LOG_FORMAT"] == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    # Alembic's fileConfig (migrations/env.py) disables every logger that existed before it
    # ran: an app made after a migration in the same process (tests, a command that migrates
    # and goes on) would otherwise log nothing at all.
    for name, existing in list(logging.root.manager.loggerDict.items()):
        if isinstance(existing, logging.Logger) and (name == logger.name or name.startswith(logger.name + ".")):
            existing.disabled = False
