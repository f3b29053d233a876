"""Each request's id: what a reader quotes from an error page and what finds the request's
log lines (webapp/operations/logs.py). Taken from a proxy's X-Request-ID when it is short
and plain, made here otherwise."""
from __future__ import annotations

import re
import uuid

from flask import has_request_context, request

HEADER = "X-Request-ID"
ENVIRON_KEY = "plumb.request_id"
# An id from a proxy in front is kept if it is short and plain (it ends up in headers and logs).
SANE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def request_id() -> str | None:
    """This request's id: the incoming X-Request-ID if it looks sane, else a new one."""
    if not has_request_context():
        return None
    # Kept in the WSGI environ, not `g`: code that pushes an app context of its own inside
    # the request (a search index rebuild) gets a new `g`, but logs for the same request.
    environ = request.environ
    if ENVIRON_KEY not in environ:
        incoming = request.headers.get(HEADER, "")
        environ[ENVIRON_KEY] = incoming if SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
    return environ[ENVIRON_KEY]
