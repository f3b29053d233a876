"""A database that cannot write now (locked past the busy timeout, read-only, gone away)
answers 503 with Retry-After, never 500.

SQLAlchemy raises OperationalError for what is wrong with the database's operation
rather than with the request: "database is locked", "attempt to write a readonly
database", a lost PostgreSQL connection, a lock or statement timeout. Nothing was
changed (the transaction rolled back), so the reader may send the same form again;
forms that write money or requests carry an idempotency key, so a retry is counted
once. Views that can say something better (the pledge widget) catch it themselves."""
from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import ServiceUnavailable

from webapp.extensions import db
from webapp.site.errors import error_page

RETRY_AFTER_SECONDS = 5
BUSY = ("Plumb is busy and could not save that just now. Nothing was changed. Please try again in a few "
        "seconds: sending the same form again is safe.")


def settle(error: OperationalError) -> None:
    """Roll back what the request began, and tell the operator in one line."""
    db.session.rollback()
    current_app.logger.warning("database unavailable: %s", str(error.orig or error).splitlines()[0])


def unavailable(error: OperationalError):
    settle(error)
    return error_page(ServiceUnavailable(description=BUSY, retry_after=RETRY_AFTER_SECONDS))


def register(app: Flask) -> None:
    app.register_error_handler(OperationalError, unavailable)
