"""The answer page's weight as a reader's browser moves it: first visit with an empty
cache, then a repeat visit, against issue 12's targets.

    .venv/bin/python bench/weight.py [--url /q/why-is-the-sky-blue]

Serves the app with the demo content and the demo campaign (a throw-away SQLite database
in a temporary folder; BENCH_TMP chooses where) on 127.0.0.1 in a thread, through
WhiteNoise and Flask-Compress as in production, and drives Debian's chromium with
Playwright. Bytes are what chromium's network layer counts per request
(`encodedDataLength`: headers and the body as compressed on the wire), summed over every
request that went to the server; anything answered from the browser's cache is counted
apart. The repeat visit opens the page in a new tab of the same browser profile, as a
reader coming back from a link does (a reload would revalidate the page on purpose).

Requests are grouped as the page (the document), static files (/static/, the icon), and
the fragments the page loads lazily with htmx (the supporter asks). The targets: the
first visit, everything, at most 45 KB; the repeat visit asks for the page alone, at
most 6 KB, and for no static file (not even to revalidate it). The fragments a repeat
visit loads are shown beside, not counted. Exits 1 when a target is missed."""
from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.content.importer import import_folder  # noqa: E402
from tests.network import Visit, record_visit  # noqa: E402
from webapp.extensions import db  # noqa: E402

FIRST_VISIT_LIMIT = 45_000  # bytes transferred, everything the first visit loads
REPEAT_VISIT_LIMIT = 6_000  # bytes transferred on a repeat visit


def serve(folder: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench",
                      "SEARCH_ENGINE": "whoosh", "SEARCH_INDEX_DIR": str(folder / "index"),
                      "SEARCH_REBUILD_IN_BACKGROUND": False, "STATIC_AUTOREFRESH": False, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        db.create_all()
        import_folder(db.session, ROOT / "content" / "demo")
    result = app.test_cli_runner().invoke(args=["support", "demo"])
    assert result.exit_code == 0, result.output
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def table(title: str, found: Visit, base: str) -> None:
    print(f"| {title}: request | kind | status | encoding | bytes transferred |\n|---|---|---:|---|---:|")
    for request in found.requests.values():
        where = "browser cache" if request.from_cache else f"{request.transferred:,}"
        print(f"| {request.url.replace(base, '')} | {found.group(request)} | {request.status} | "
              f"{request.encoding or '-'} | {where} |")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="/q/why-is-the-sky-blue")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("bench/weight.py needs Debian's chromium: `sudo apt-get install chromium` (or set CHROMIUM_PATH)")
        return 1
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_FLAGS

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        server = serve(Path(folder))
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
                context = browser.new_context()
                first = record_visit(context.new_page(), base + args.url)
                repeat = record_visit(context.new_page(), base + args.url)
                browser.close()
        finally:
            server.shutdown()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"# {platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()} · "
          f"{time.strftime('%Y-%m-%d')} · commit {commit.strip() or 'unknown'} · {args.url}\n")
    table("first visit", first, base)
    table("repeat visit", repeat, base)

    page = next(r for r in repeat.over_network() if repeat.group(r) == "page")
    fragments = [r for r in repeat.over_network() if repeat.group(r) == "fragment"]
    checks = [
        ("first visit: bytes transferred, everything", f"{first.transferred():,}", f"≤ {FIRST_VISIT_LIMIT:,}",
         first.transferred() <= FIRST_VISIT_LIMIT),
        ("repeat visit: the page (HTML), bytes transferred", f"{page.transferred:,}", f"≤ {REPEAT_VISIT_LIMIT:,}",
         page.transferred <= REPEAT_VISIT_LIMIT),
        ("repeat visit: requests for the page", str(repeat.count("page")), "1", repeat.count("page") == 1),
        ("repeat visit: requests for static files, revalidations included", str(repeat.count("static")), "0",
         repeat.count("static") == 0),
    ]
    print("| target | measured | wanted | |\n|---|---:|---:|---|")
    for name, measured, wanted, met in checks:
        print(f"| {name} | {measured} | {wanted} | {'met' if met else '**missed**'} |")
    # Not held to the 6 KB: the supporter asks the page loads after it (issue 12 asks for
    # them lazily loaded); shown so that their weight is seen.
    print(f"| repeat visit: everything, the {len(fragments)} lazily loaded fragments included | "
          f"{repeat.transferred():,} | (information) | |")
    return 0 if all(met for *_, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
