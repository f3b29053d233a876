"""Lighthouse scores of Plumb's main pages, as served in production: gunicorn with
PLUMB_ENV=production on a fresh demo database, audited by Debian's chromium.

    .venv/bin/python bench/lighthouse.py [--pages home,answer,search,support] [--presets mobile,desktop] [--keep DIR]

Needs node/npx and chromium (CHROME_PATH, default /usr/bin/chromium), and the built
static files (`make static`). Lighthouse comes through `npx --yes lighthouse@<LIGHTHOUSE>`
at the first run (some 100 MB in npm's cache): CI never runs this, so it is not in
package.json. 12.x is the last line that runs on Node 20 (13 wants Node 22.19).

The database and index are the demo, made by the same commands as `make demo` in a
temporary folder (BENCH_TMP chooses where). Audits run one after another: Lighthouse's
performance score is a simulation from a trace, and two runs at once slow each other.
The mobile preset simulates a mid-range phone on slow 4G (4× CPU slowdown on top of this
machine's own speed); desktop is Lighthouse's `--preset=desktop`.

Prints one table of the four scores per page and preset, then per run the audits that
cost the most points (an audit's weight in its category times what it missed)."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import wait_healthy  # noqa: E402

LIGHTHOUSE = "12.8.2"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
# The measurements behind the performance score, and the bytes the page moved.
METRICS = {"first-contentful-paint": "FCP", "largest-contentful-paint": "LCP", "cumulative-layout-shift": "CLS",
           "total-blocking-time": "TBT", "speed-index": "speed index", "total-byte-weight": "bytes"}
PAGES = {
    "home": "/",
    "answer": "/q/why-is-the-sky-blue",
    # noindex on purpose (templates/search/results.html): results are not pages for search
    # engines to list, so Lighthouse's SEO "is-crawlable" audit fails there by design.
    "search": "/search?q=lightning",
    "support": "/support",
}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage"
BIN = ROOT / ".venv" / "bin"


def demo_database(folder: Path, env: dict) -> None:
    """What `make demo` does, in `folder`."""
    flask = [str(BIN / "flask"), "--app", "webapp"]
    for command in (["db", "upgrade"], ["content", "import", "content/demo"], ["search", "sync"], ["support", "demo"]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def serve(folder: Path, env: dict):
    """gunicorn as `make serve` starts it (one worker: rate limits in memory need no Redis)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.set_inheritable(True)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"fd://{listener.fileno()}",
         "webapp:create_app()"],
        cwd=ROOT, env={**env, "SITE_URL": url, "WORKERS": "1"}, stdout=log, stderr=subprocess.STDOUT,
        pass_fds=(listener.fileno(),))
    listener.close()
    wait_healthy(url, process, lambda: (folder / "gunicorn.log").read_text(errors="replace"))
    return url, process


def audit(url: str, preset: str, report: Path, chrome: str) -> dict:
    command = ["npx", "--yes", f"lighthouse@{LIGHTHOUSE}", url, "--quiet", "--output=json",
               f"--output-path={report}", f"--only-categories={','.join(CATEGORIES)}",
               f"--chrome-flags={CHROME_FLAGS}"]
    if preset == "desktop":
        command.append("--preset=desktop")
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chrome})
    return json.loads(report.read_text())


def scores(result: dict) -> dict[str, int | None]:
    return {c: None if result["categories"][c]["score"] is None else round(result["categories"][c]["score"] * 100)
            for c in CATEGORIES}


def metrics(result: dict) -> dict[str, str]:
    shown = {}
    for audit_id in METRICS:
        found = result["audits"][audit_id]
        if audit_id == "total-byte-weight":
            shown[audit_id] = f"{found['numericValue'] / 1024:.0f} KiB"
        else:
            shown[audit_id] = (found.get("displayValue") or "").replace("\xa0", " ")
    return shown


def costly_audits(result: dict, count: int = 6) -> list[tuple[float, str, str, str]]:
    """(points lost, category, audit id, what Lighthouse shows) of the audits that cost most."""
    lost = []
    for name in CATEGORIES:
        category = result["categories"][name]
        total = sum(ref["weight"] for ref in category["auditRefs"]) or 1
        for ref in category["auditRefs"]:
            found = result["audits"][ref["id"]]
            if ref["weight"] and found.get("score") is not None and found["score"] < 1:
                points = 100 * ref["weight"] * (1 - found["score"]) / total
                shown = found.get("displayValue") or found["title"]
                lost.append((points, name, ref["id"], shown))
    return sorted(lost, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--presets", default="mobile,desktop")
    parser.add_argument("--keep", type=Path, help="write each run's JSON report into this folder")
    args = parser.parse_args()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    for needed in ("npx", chrome):
        if not shutil.which(needed):
            sys.exit(f"{needed} is not installed")
    if not (ROOT / "static" / "build" / "manifest.json").exists():
        sys.exit("the static files are not built: run `make static`")

    rows, details = [], []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        env = {**os.environ, "PLUMB_ENV": "production", "SECRET_KEY": "lighthouse-bench",
               "DATABASE_URL": f"sqlite:///{folder / 'plumb.db'}", "SEARCH_INDEX_DIR": str(folder / "search_index"),
               "SITE_URL": "http://127.0.0.1", "RATELIMIT_STORAGE_URI": "memory://"}
        env.pop("REDIS_URL", None)
        demo_database(folder, env)
        url, server = serve(folder, env)
        try:
            for page in args.pages.split(","):
                for preset in args.presets.split(","):
                    report = (args.keep or folder) / f"{page}-{preset}.json"
                    report.parent.mkdir(parents=True, exist_ok=True)
                    started = time.monotonic()
                    result = audit(url + PAGES[page], preset, report, chrome)
                    rows.append((page, preset, scores(result), metrics(result), time.monotonic() - started))
                    details.append((page, preset, costly_audits(result)))
        finally:
            server.terminate()
            server.wait(15)

    version = subprocess.run([chrome, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"# {platform.node()} · {os.cpu_count()} cores · {version} · Lighthouse {LIGHTHOUSE} · "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| page | preset | performance | accessibility | best practices | SEO |\n|---|---|---:|---:|---:|---:|")
    for page, preset, found, _, _ in rows:
        print(f"| {page} `{PAGES[page]}` | {preset} | " + " | ".join(str(found[c]) for c in CATEGORIES) + " |")
    print("\n| page | preset | " + " | ".join(METRICS.values()) + " | audit took |\n|---|---|" + "---:|" * (len(METRICS) + 1))
    for page, preset, _, measured, seconds in rows:
        print(f"| {page} | {preset} | " + " | ".join(measured[m] for m in METRICS) + f" | {seconds:.0f} s |")
    print("\nWhat cost points (points of the category's 100):")
    for page, preset, lost in details:
        listed = "; ".join(f"{category} −{points:.1f} {audit_id} ({shown})" for points, category, audit_id, shown in lost)
        print(f"- {page} {preset}: {listed or 'nothing'}")


if __name__ == "__main__":
    main()
