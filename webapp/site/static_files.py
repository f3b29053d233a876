"""Static files and compression, the same in development and production.

- WhiteNoise answers /static/ before Flask sees the request, with the .br or .gz copy
  the browser accepts (`make static` writes them) and ETag/304 handling.
- Templates name source files (`url_for('static', filename='css/plumb.css')`); the
  build's manifest (frontend/build.mjs) turns that into the built file whose name
  carries a hash of its content, so it is cached for a year without revalidation. A
  changed file gets a new name. Other files keep their own names and a short max-age.
- Flask-Compress compresses pages and htmx fragments (settings in webapp/config.py).

Without a build gunicorn does not start (`problem`, called by gunicorn.conf.py): pages
would name Pico-less, unhashed, uncached files, which is what issue 12 set out to end.
`make setup` builds it. The app itself still starts, with a warning, so `flask db
upgrade`, backups and imports run on a machine that has no Node.js. In
development (STATIC_AUTOREFRESH) a build older than a file it was made from (the build
lists them in inputs.json) is made again before the next page names it, so a changed
stylesheet shows at the next page load, in `make run` and in the tests alike."""
from __future__ import annotations

import json
import logging
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from whitenoise import WhiteNoise

from webapp.config import ROOT
from webapp.site.headers import CSP

log = logging.getLogger(__name__)
BUILD_COMMAND = ["node", str(ROOT / "frontend" / "build.mjs")]
CHECK_EVERY_SECONDS = 1.0

# frontend/build.mjs names every file it writes name.<12 hex digits>.ext.
_HASHED = re.compile(r"/build/[^/]+\.[0-9a-f]{12}\.[a-z0-9]+$")

compress = Compress()


def build() -> None:
    """`make static`'s build step, for a development server whose build is out of date."""
    subprocess.run(BUILD_COMMAND, cwd=ROOT, check=True, capture_output=True, text=True, timeout=120)


class Manifest:
    """Source name -> built name, from static/build/manifest.json. With `watch`, each
    lookup first makes the build again if a file it was made from changed since (with
    `rebuild`), then reads a new manifest if there is one."""

    def __init__(self, path: Path, watch: bool, rebuild: Callable[[], None] = build, root: Path = ROOT):
        self.path = path
        self.watch = watch
        self.rebuild = rebuild
        self.root = root  # what inputs.json's paths are relative to
        self._read_at: float | None = None
        self.names: dict[str, str] = {}
        self._rebuilding = threading.Lock()
        self._failed_for: float | None = None  # the newest input when a rebuild last failed
        self._checked_at = float("-inf")
        self._read()

    def _read(self) -> None:
        try:
            changed_at = self.path.stat().st_mtime
            if changed_at != self._read_at:
                self.names = json.loads(self.path.read_text())
                self._read_at = changed_at
        except (OSError, ValueError) as error:
            if self._read_at is None and not self.names:  # said once, at start-up
                log.warning("%s; pages name the unbuilt files", missing_build(self.path, error))

    def _newer_input(self) -> float | None:
        """The modification time of the newest input if it is newer than the build."""
        try:
            built_at = self.path.stat().st_mtime
            inputs = json.loads((self.path.parent / "inputs.json").read_text())
        except (OSError, ValueError):
            return None  # a build without inputs.json: `make static` knows better
        newest = 0.0
        for name in inputs:
            try:
                newest = max(newest, (self.root / name).stat().st_mtime)
            except OSError:
                newest = float("inf")  # an input went away: the build would differ or fail
        return newest if newest > built_at else None

    def _rebuild_if_out_of_date(self) -> None:
        # Once a second at most: a page names three files, and an edit is seen by the
        # time a person has switched to the browser.
        now = time.monotonic()
        if now - self._checked_at < CHECK_EVERY_SECONDS:
            return
        self._checked_at = now
        newest = self._newer_input()
        if newest is None or newest == self._failed_for:
            return
        with self._rebuilding:
            if self._newer_input() is None:  # another thread has just built
                return
            try:
                self.rebuild()
            except (OSError, subprocess.SubprocessError) as error:
                # Pages go on naming the last build; tried again once an input changes.
                self._failed_for = newest
                log.warning("static files are out of date and could not be built again: %s",
                            getattr(error, "stderr", None) or error)

    def built_name(self, filename: str) -> str:
        if self.watch:
            self._rebuild_if_out_of_date()
            self._read()
        return self.names.get(filename, filename)


def missing_build(path: Path, error: Exception) -> str:
    return (f"the built stylesheet and script are missing ({path}: {error}). "
            "Run `make setup` (or `make static`), which builds them from npm's packages")


def problem(settings: dict) -> str | None:
    """Why a server must not start with these settings' static files, if it must not."""
    path = Path(settings["STATIC_MANIFEST"])
    try:
        json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return missing_build(path, error)
    return None


def is_hashed(path: str, url: str) -> bool:
    """WhiteNoise's test for files that may be cached for ever."""
    return bool(_HASHED.search(url))


def _security_headers(headers, path: str, url: str) -> None:
    """What webapp/site/headers.py gives the app's responses, for WhiteNoise's: no
    guessing a type other than the one sent, and the policy for an SVG opened on its own."""
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Security-Policy"] = CSP


def register(app: Flask) -> None:
    """Call last in create_app: WhiteNoise becomes the outermost WSGI wrapper, so a
    static file costs none of the app's hooks, logs or metrics."""
    autorefresh = app.config["STATIC_AUTOREFRESH"]
    manifest = Manifest(Path(app.config["STATIC_MANIFEST"]), watch=autorefresh)

    @app.url_defaults
    def _built_file(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.built_name(values["filename"])

    compress.init_app(app)
    # autorefresh looks files up on each request, so a new build appears without a
    # restart (development only); otherwise WhiteNoise lists the folder once. Files
    # without a hash (the sources, reachable but named by no page) are kept a minute.
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=app.static_folder,
        prefix=app.static_url_path,
        autorefresh=autorefresh,
        immutable_file_test=is_hashed,
        add_headers_function=_security_headers,
    )
