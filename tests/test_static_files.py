"""Static files and compression (issue 12): hashed bundles cached for a year, .br/.gz
copies as the browser asks, pages and fragments compressed without losing their
caching rules, and the icon at /favicon.ico."""
from __future__ import annotations

import gzip
import json
import logging
import os
import re
import subprocess
import time
from pathlib import Path

import brotli
import pytest

from tests.apps import ROOT, drop, make_app
from tests.pages import HTMX, tags, text_of
from tests.pledging import make_campaign
from tests.readers import sign_in
from webapp.site import static_files

SKY = "why-is-the-sky-blue"
HASHED = re.compile(r"^/static/build/[\w-]+\.[0-9a-f]{12}\.(css|js|svg)$")
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    return DECODE[encoding](response.data) if encoding else response.data


def page_assets(client) -> dict[str, str]:
    """What /about names in its <head>: the stylesheet, the script and the icon."""
    head = text_of(client.get("/about")).split("</head>")[0]
    links = {t["rel"]: t["href"] for t in tags(head, "link")}
    return {"stylesheet": links["stylesheet"], "icon": links["icon"],
            "script": next(t["src"] for t in tags(head, "script") if "src" in t)}


def max_age(response) -> int:
    return int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))


# --- the bundles -------------------------------------------------------------------------

def test_pages_name_one_stylesheet_and_one_script_by_hashed_names(client):
    assets = page_assets(client)
    for url in assets.values():
        assert HASHED.match(url), url
    css = decoded(client.get(assets["stylesheet"]))
    assert b"Pico CSS" in css and b".site-header" in css  # Pico, then our own features' styles
    script = decoded(client.get(assets["script"]))
    assert b"var htmx=" in script and b"no-js" in script  # htmx, then our scripts


@pytest.mark.parametrize("kind", ["stylesheet", "script", "icon"])
def test_hashed_files_are_kept_a_year_without_asking_again(client, kind):
    response = client.get(page_assets(client)[kind])
    assert response.status_code == 200
    rules = {r.strip() for r in response.headers["Cache-Control"].split(",")}
    assert {"public", "immutable"} <= rules
    assert max_age(response) >= 365 * 24 * 3600
    # A browser that asks anyway (a forced reload) is told nothing changed.
    again = client.get(response.request.path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("accepts, encoding", [("br, gzip", "br"), ("gzip", "gzip"), ("", None),
                                                ("identity", None)])
@pytest.mark.parametrize("kind", ["stylesheet", "script"])
def test_static_files_come_compressed_as_the_browser_asks(client, kind, accepts, encoding):
    url = page_assets(client)[kind]
    plain = client.get(url).data
    response = client.get(url, headers={"Accept-Encoding": accepts})
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert decoded(response) == plain
    if encoding:
        assert len(response.data) < len(plain) / 3


def test_without_autorefresh_as_in_production_the_same_files_are_served_the_same_way(tmp_path):
    """Production reads the folder once at start (STATIC_AUTOREFRESH off)."""
    production = make_app(tmp_path, STATIC_AUTOREFRESH=False)
    try:
        client = production.test_client()
        url = page_assets(client)["stylesheet"]
        assert HASHED.match(url)
        response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert response.headers["Content-Encoding"] == "br" and "immutable" in response.headers["Cache-Control"]
    finally:
        drop(production)


def test_other_static_paths_a_source_briefly_cached_and_unknown_files_not_found(client):
    """An old page, or a person, may ask for the unhashed source: it is there, and kept
    a minute at most since it can change under the same name. A name that is not there
    is the site's 404 page, never a server error."""
    response = client.get("/static/css/plumb.css")
    assert response.status_code == 200 and b"@import" in response.data
    assert "immutable" not in response.headers["Cache-Control"] and max_age(response) <= 60
    for url in ["/static/no-such.css", "/static/build/plumb.000000000000.css", "/static/../webapp/config.py"]:
        assert client.get(url).status_code == 404, url


def test_without_a_build_commands_still_run_but_a_server_will_not_start(tmp_path, caplog):
    """`flask db upgrade` or a restore on a machine without Node.js; gunicorn.conf.py asks
    `problem` before serving (tests/test_operations.py starts a real gunicorn)."""
    missing = str(tmp_path / "static" / "manifest.json")
    caplog.set_level(logging.WARNING, logger="webapp.site.static_files")
    app = make_app(tmp_path, STATIC_MANIFEST=missing)
    assert "make setup" in caplog.text
    assert 'href="/static/css/plumb.css"' in app.test_client().get("/about").get_data(as_text=True)
    assert "make setup" in static_files.problem(app.config)
    assert static_files.problem({"STATIC_MANIFEST": str(ROOT / "static" / "build" / "manifest.json")}) is None


def test_a_new_build_shows_in_pages_without_a_restart(tmp_path, app):
    """`make static` while `make run` serves: the next page names the new files."""
    built = json.loads(Path(app.config["STATIC_MANIFEST"]).read_text())
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(built))
    (tmp_path / "watched").mkdir()
    watched = make_app(tmp_path / "watched", STATIC_MANIFEST=str(manifest), STATIC_AUTOREFRESH=True)
    before = page_assets(watched.test_client())["stylesheet"]
    assert before == "/static/" + built["css/plumb.css"]
    manifest.write_text(json.dumps({**built, "css/plumb.css": "build/plumb.0123456789ab.css"}))
    os.utime(manifest, (1, 1))  # a different modification time, however fast the test runs
    assert page_assets(watched.test_client())["stylesheet"] == "/static/build/plumb.0123456789ab.css"
    drop(watched)


def test_a_changed_stylesheet_is_built_again_before_the_next_page_names_it(tmp_path, monkeypatch, caplog):
    """Development: a build older than a file it was made from is made again (a failed
    build leaves the last one in place and is not retried until a file changes again)."""
    from webapp.site import static_files

    monkeypatch.setattr(static_files, "CHECK_EVERY_SECONDS", 0)
    (tmp_path / "static" / "build").mkdir(parents=True)
    (tmp_path / "static" / "css").mkdir()
    source = tmp_path / "static" / "css" / "site.css"
    source.write_text("body {}")
    manifest = tmp_path / "static" / "build" / "manifest.json"
    manifest.write_text(json.dumps({"css/plumb.css": "build/plumb.aaaaaaaaaaaa.css"}))
    (tmp_path / "static" / "build" / "inputs.json").write_text(json.dumps(["static/css/site.css"]))
    os.utime(source, (100, 100))
    os.utime(manifest, (200, 200))
    builds = []

    def rebuild():
        builds.append(1)
        if len(builds) == 2:
            raise subprocess.CalledProcessError(1, "node", stderr="site.css: unexpected }")
        manifest.write_text(json.dumps({"css/plumb.css": f"build/plumb.{len(builds):012d}.css"}))

    names = static_files.Manifest(manifest, watch=True, rebuild=rebuild, root=tmp_path)
    assert names.built_name("css/plumb.css") == "build/plumb.aaaaaaaaaaaa.css" and builds == []
    os.utime(source, (300, 300))  # edited after the build
    assert names.built_name("css/plumb.css") == "build/plumb.000000000001.css" and len(builds) == 1
    assert names.built_name("css/plumb.css") == "build/plumb.000000000001.css" and len(builds) == 1
    os.utime(source, (time.time() + 60,) * 2)  # edited again, and this build fails
    assert names.built_name("css/plumb.css") == "build/plumb.000000000001.css" and len(builds) == 2
    assert "unexpected }" in caplog.text
    assert names.built_name("css/plumb.css") == "build/plumb.000000000001.css" and len(builds) == 2


# --- pages and fragments ------------------------------------------------------------------

@pytest.mark.parametrize("url, headers, marker", [
    (f"/q/{SKY}", {}, b"<h1"),
    (f"/q/{SKY}/sections/2", HTMX, b"Rayleigh"),
    ("/search?q=sky", HTMX, b"sky"),
])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_and_htmx_fragments_are_compressed(demo, client, url, headers, marker, encoding):
    plain = client.get(url, headers=headers)
    response = client.get(url, headers={**headers, "Accept-Encoding": encoding})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert marker in decoded(response) and len(response.data) < len(plain.data) / 2
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert {"Accept-Encoding", "HX-Request"} <= vary
    assert "Content-Encoding" not in plain.headers


def test_compression_starts_at_a_kilobyte(client):
    """Under COMPRESS_MIN_SIZE the headers outweigh any saving: such bodies go as they are."""
    small = client.get("/healthz", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in small.headers and small.get_json() == {"status": "ok"}
    page = client.get("/about", headers={"Accept-Encoding": "br"})
    assert page.headers["Content-Encoding"] == "br" and len(decoded(page)) > 1024


def test_compression_keeps_each_responses_caching_rules(app, client):
    """A personal page stays private and unstored; the polled progress bar (the same
    for everyone) is still answered 304 to its ETag."""
    make_campaign(app)
    headers = {**HTMX, "Accept-Encoding": "br, gzip"}
    first = client.get("/support/progress", headers=headers)
    assert first.status_code == 200
    again = client.get("/support/progress", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, no-cache"
    sign_in(app, client)
    for fragment in ({}, HTMX):
        response = client.get("/account", headers={**fragment, "Accept-Encoding": "br"})
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
        assert response.headers["Cache-Control"] == "private, no-store"


# --- the icon -----------------------------------------------------------------------------

def test_pages_link_the_svg_icon_and_favicon_ico_is_an_icon_file_kept_a_day(client):
    icon = client.get(page_assets(client)["icon"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    images = int.from_bytes(response.data[4:6], "little")
    sizes = {response.data[6 + 16 * i] for i in range(images)}
    assert {16, 32} <= sizes
    assert max_age(response) >= 24 * 3600 and "private" not in response.headers["Cache-Control"]
    again = client.get("/favicon.ico", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
