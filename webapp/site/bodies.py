"""Request bodies sent in chunks are held to MAX_CONTENT_LENGTH like any other.

Werkzeug refuses a body whose Content-Length is too large before reading it, but a
chunked body has no length: it cuts the stream at the limit and the view goes on with
what it got (a 10 MiB chunked POST to /login was answered as a login). Here such a
body is read, up to one byte past the limit, before the application sees the request:
one that fits is handed on with its length, one that does not is refused with 413."""
from __future__ import annotations

import io

from flask import Flask, abort, current_app, request

TOO_LARGE = "plumb.body_too_large"


class _ChunkedBodyLimit:
    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app, self.app = wsgi_app, app

    def __call__(self, environ, start_response):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            limit = self.app.config["MAX_CONTENT_LENGTH"]
            # The server has taken the chunk framing off (wsgi.input_terminated).
            body = environ["wsgi.input"].read(limit + 1) if limit is not None else environ["wsgi.input"].read()
            if limit is not None and len(body) > limit:
                environ[TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.wsgi_app(environ, start_response)


def _refuse_too_large() -> None:
    if request.environ.get(TOO_LARGE):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        abort(413, description=f"That request is larger than this site accepts ({limit / 2**20:g} MB).")


def register(app: Flask) -> None:
    app.wsgi_app = _ChunkedBodyLimit(app.wsgi_app, app)
    # First of all, before the CSRF check reads the (emptied) form.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_too_large)
