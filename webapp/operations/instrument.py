"""Wiring logs, request ids and metrics into the app: one call in create_app.

The clock starts in a WSGI wrapper, before any hook of any extension (some put theirs
first, and a 413 or a 403 may answer before ours would run); the request id is made when
first asked for. Our after_request hook is registered before the others' and so runs
last (Flask runs them in reverse), when the status is final."""
from __future__ import annotations

import time

from flask import Flask, Response, request

from webapp import request_ids
from webapp.operations import logs, metrics, ratelimits

STARTED = "plumb.started"


class _StartTheClock:
    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ[STARTED] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - request.environ.get(STARTED, time.perf_counter())
    # Each on its own: a metric or a log line that fails must not take the others down,
    # and never the response.
    try:
        response.headers[request_ids.HEADER] = request_ids.request_id()
    except Exception:
        pass
    try:
        metrics.observe(response, seconds)
    except Exception:
        pass
    logs.log_request(response, seconds)
    return response


def register(app: Flask) -> None:
    logs.configure(app)
    app.wsgi_app = _StartTheClock(app.wsgi_app)
    app.after_request(_finish)
    metrics.register(app)
    ratelimits.warn_when_serving_per_process(app)
