"""Plumb's visitors for Locust: readers, searchers, open pages polling, supporters.

    make load                      # sets everything up, runs this, prints the table
    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8000   # by hand

Each user behaves like a browser with htmx: a full page, then the supporter widget that
the page loads lazily (`hx-trigger="load"`), then the htmx requests a reader's actions
send, with the headers htmx sends (`HX-Request`, `HX-Current-URL`, `HX-Target`,
`HX-Trigger`). URLs come from the pages themselves (links, forms, `hx-get`), so the
profile follows the templates. Requests are named by route ("/q/[slug]") so the table
has one row per endpoint, a "(htmx)" suffix where the same route also serves pages.

What `bench/load.py` hands over, in environment variables:
  PLUMB_LOAD_DATA      a folder with slugs.txt (one "slug answered|unanswered" a line)
                       and queries.txt (one search a line); without it, links found
                       on the home page and a few built-in searches
  PLUMB_LOAD_ACCOUNTS  how many supporter accounts exist: load-supporter-N@example.org,
                       N from 1, all with PLUMB_LOAD_PASSWORD
  PLUMB_LOAD_OUT       where each Locust process writes how its polls were answered

FastHttpUser (geventhttpclient) rather than HttpUser: it uses a fraction of the CPU per
request, which matters when Locust shares two cores with the server. Its cookie jar is
told that plain http is secure enough here, so the site's Secure cookies
(PLUMB_ENV=production) go back over http to 127.0.0.1, as a browser does for a local
address; without that every POST would fail its CSRF check.
"""
from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time
from collections import Counter
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, events, task

DATA = Path(os.environ["PLUMB_LOAD_DATA"]) if os.environ.get("PLUMB_LOAD_DATA") else None
ACCOUNTS = int(os.environ.get("PLUMB_LOAD_ACCOUNTS", "0"))
PASSWORD = os.environ.get("PLUMB_LOAD_PASSWORD", "")
POLL_SECONDS = int(os.environ.get("SUPPORT_POLL_SECONDS", "15"))
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
# What every page names: the built stylesheet, script and icon (`make static`; hashed names).
STATIC = tuple("/static/" + built for built in json.loads(
    (Path(__file__).resolve().parent.parent / "static" / "build" / "manifest.json").read_text()).values())
FALLBACK_QUERIES = ("sky blue", "goldfish memory", "vitamin c cold", "cracking knuckles", "is:unanswered",
                    "category:health sugar", "bats blind", "\"great wall\"", "lightning twice", "xqzzv")

QUESTION_LINK = re.compile(r'href="/q/([a-z0-9-]+)"')
CATEGORY_LINK = re.compile(r'href="/c/([a-z0-9-]+)"')
EXPLORE_LINK = re.compile(r'hx-get="(/explore/[a-z0-9-]+\?hops=[12])"')
SECTION_URL = re.compile(r'hx-get="(/q/[a-z0-9-]+/sections/\d+)"')
COUNTS_URL = re.compile(r'hx-get="(/search/counts[^"]*)"')
OLDER_URL = re.compile(r'href="(/c/[a-z0-9-]+\?page=\d+)"[^>]*>Older')
NEXT_RESULTS = re.compile(r'rel="next" href="(/search\?[^"]*)"')
HIT_LINK = re.compile(r'href="/q/([a-z0-9-]+)" class="hit-question"')
RELATED = re.compile(r'<section class="related".*?</section>', re.S)
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_FIELD = re.compile(r'name="key" value="([^"]+)"')
REQUEST_FORM = re.compile(r'hx-post="(/q/[a-z0-9-]+/request)"')
LAZY_WIDGET = 'hx-get="/support/widget" hx-trigger="load"'
THANKED = "Thank you for supporting"  # templates/support/_widget_thanked.html


def _lines(name: str) -> list[str]:
    if DATA is None or not (DATA / name).exists():
        return []
    return [line for line in (DATA / name).read_text().splitlines() if line.strip()]


SLUGS = [line.split()[0] for line in _lines("slugs.txt")]
ANSWERED = [line.split()[0] for line in _lines("slugs.txt") if line.endswith(" answered")]
QUERIES = _lines("queries.txt") or list(FALLBACK_QUERIES)
# How /support/progress was answered (304 while nothing changed), per Locust process.
POLLS: Counter[str] = Counter()
# Supporter accounts in turn, so two supporters rarely share one (in one process).
_account_numbers = itertools.cycle(range(1, ACCOUNTS + 1)) if ACCOUNTS else None


def _pick(found: list[str], fallback: list[str]) -> str | None:
    if found:
        return random.choice(found)
    return random.choice(fallback) if fallback else None


class Visitor(FastHttpUser):
    """A browser tab: the page it shows, its cookies, and what htmx would send from it."""

    abstract = True
    here = "/"  # the page the tab shows (HX-Current-URL, Referer)
    last_widget = ""  # the supporter widget as the tab shows it
    default_headers = {"User-Agent": BROWSER}  # a reader's browser, not a bot (bots' views are not counted)

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))
        for path in STATIC:  # a first visit fetches them; the browser caches them afterwards
            self.get(path, "/static/[file]")

    # -- requests, with the checks a browser's user would notice --

    def get(self, path: str, name: str, headers: dict | None = None, expect=(200,), marker: str | None = None):
        """GET `path`; a status outside `expect` or a body without `marker` is a failure. Returns the body."""
        with self.client.get(path, name=name, headers=headers or {}, catch_response=True) as response:
            body = response.text or ""
            if response.status_code not in expect:
                response.failure(f"{response.status_code} for {path}")
            elif marker and marker not in body:
                response.failure(f"{path}: no {marker!r} in the answer")
            else:
                response.success()
            return response, body

    def page(self, path: str, name: str, marker: str = "</html>") -> str:
        """A full page load, as after a click: then the lazily loaded supporter widget."""
        headers = {"Referer": self.absolute(self.here), "Accept": "text/html"}
        _, body = self.get(path, name, headers, marker=marker)
        self.here = path
        # The placeholder loads the widget; /support has it in the page already.
        self.last_widget = self.widget() if LAZY_WIDGET in body else body
        return body

    def htmx(self, path: str, name: str, target: str | None = None, trigger: str | None = None,
             expect=(200,), marker: str | None = None, extra: dict | None = None):
        return self.get(path, name, self.htmx_headers(target, trigger) | (extra or {}), expect, marker)

    def htmx_headers(self, target: str | None = None, trigger: str | None = None) -> dict:
        headers = {"HX-Request": "true", "HX-Current-URL": self.absolute(self.here)}
        if target:
            headers["HX-Target"] = target
        if trigger:
            headers["HX-Trigger"] = trigger
        return headers

    def widget(self) -> str:
        _, body = self.htmx("/support/widget", "/support/widget (htmx)", target="support-widget",
                            trigger="support-widget", marker="support-widget")
        return body

    def absolute(self, path: str) -> str:
        return self.host.rstrip("/") + path

    # -- what readers do --

    def read_answer(self, slug: str) -> str:
        """An answer page; open a few of its sections (each a fragment, fetched once)."""
        body = self.page(f"/q/{slug}", "/q/[slug]")
        sections = SECTION_URL.findall(body)
        for url in random.sample(sections, k=min(len(sections), random.choice((0, 1, 1, 2, 3)))):
            time.sleep(random.uniform(1, 4))  # reading the summary, then a section
            self.htmx(url, "/q/[slug]/sections/[n] (htmx)", trigger=f"section-{url.rsplit('/', 1)[1]}")
        if 'id="request-answer"' in body and random.random() < 0.2:
            self.request_answer(body)
        return body

    def request_answer(self, body: str) -> None:
        form, token = REQUEST_FORM.search(body), CSRF_FIELD.search(body)
        if not form or not token:
            return
        headers = self.htmx_headers(target="request-answer") | {"Origin": self.host.rstrip("/")}
        with self.client.post(form.group(1), name="/q/[slug]/request (htmx)", data={"csrf_token": html.unescape(token.group(1))},
                              headers=headers, catch_response=True) as response:
            if response.status_code != 200 or "request-answer" not in (response.text or ""):
                response.failure(f"{response.status_code} for {form.group(1)}")

    def deeper(self, body: str) -> str | None:
        """A question from "Want to dive deeper?", if the page has that list."""
        related = RELATED.search(body)
        return _pick(QUESTION_LINK.findall(related.group(0)) if related else [], [])


class Reader(Visitor):
    """Arrives on the home page or from elsewhere on an answer; reads, opens sections,
    follows "Want to dive deeper?", browses categories, uses the explorer."""

    weight = 60
    wait_time = between(2, 8)
    slug: str | None = None  # the answer this reader is on

    def on_start(self) -> None:
        super().on_start()
        if random.random() < 0.5:
            self.home()
        else:
            self.slug = _pick(SLUGS, [])

    def home(self) -> None:
        body = self.page("/", "/")
        self.slug = _pick(QUESTION_LINK.findall(body), SLUGS)
        self.categories = CATEGORY_LINK.findall(body) or getattr(self, "categories", [])

    @task(8)
    def read(self) -> None:
        if not self.slug:
            return self.home()
        body = self.read_answer(self.slug)
        # Most readers go on: "Want to dive deeper?", else somewhere new.
        self.slug = self.deeper(body) if random.random() < 0.6 else None
        self.slug = self.slug or _pick([], ANSWERED or SLUGS)

    @task(2)
    def category(self) -> None:
        slug = _pick(getattr(self, "categories", []), [])
        if slug is None:
            return self.home()
        body = self.page(f"/c/{slug}", "/c/[slug]")
        older = OLDER_URL.search(body)
        if older and random.random() < 0.4:
            time.sleep(random.uniform(1, 3))
            _, body = self.htmx(html.unescape(older.group(1)), "/c/[slug]?page= (htmx)", target="question-list")
        self.slug = _pick(QUESTION_LINK.findall(body), [self.slug] if self.slug else SLUGS)

    @task(1)
    def go_home(self) -> None:
        self.home()

    @task(2)
    def explore(self) -> None:
        """The explorer around the current answer; re-centre on neighbours a few times."""
        slug = self.slug or _pick([], ANSWERED or SLUGS)
        if slug is None:
            return self.home()
        body = self.page(f"/explore/{slug}", "/explore/[slug]")
        for _ in range(random.choice((0, 1, 2, 3))):
            links = [u for u in EXPLORE_LINK.findall(body) if not u.startswith(f"/explore/{slug}?")]
            if not links:
                break
            time.sleep(random.uniform(1, 3))
            url = html.unescape(random.choice(links))
            _, body = self.htmx(url, "/explore/[slug] (htmx)", target="explorer")
            slug = url.split("/")[2].split("?")[0]
            self.here = url  # hx-push-url
        self.slug = slug

    @task(1)
    def hubs(self) -> None:
        body = self.page("/explore", "/explore")
        self.slug = _pick(QUESTION_LINK.findall(body), [self.slug] if self.slug else SLUGS)

    @task(1)
    def connect(self) -> None:
        """"How are these connected?": a few words typed into the path form on an answer page."""
        if not self.slug or not QUERIES:
            return
        words = random.choice(QUERIES).replace('"', "")
        for end in sorted({len(words), max(3, len(words) // 2)}):
            time.sleep(random.uniform(0.3, 1.5))
            self.htmx("/explore/path?" + urlencode({"from": self.slug, "q": words[:end]}), "/explore/path (htmx)",
                      target="path-result", trigger="path-q")


class Searcher(Visitor):
    """Types into the header's search box: htmx asks as they type (a request once they
    pause for 300 ms), each answer's counts follow; Enter; maybe page 2; then a result."""

    weight = 25
    wait_time = between(3, 10)

    def on_start(self) -> None:
        super().on_start()
        self.page("/", "/")

    @task
    def search(self) -> None:
        query = random.choice(QUERIES)
        # Where the typist pauses long enough for the 300 ms delay: some word ends, some
        # places mid-word, and the end.
        ends = {len(query)} | {i for i, c in enumerate(query) if c == " " and random.random() < 0.7}
        ends |= {i for i in range(3, len(query)) if random.random() < 0.15}
        body = ""
        for end in sorted(e for e in ends if e >= 2):
            time.sleep(random.uniform(0.35, 1.2))
            _, body = self.htmx("/search?" + urlencode({"q": query[:end], "live": "1"}), "/search?live (htmx)",
                                target="main", trigger="site-search", marker="results")
            self.counts(body)
        time.sleep(random.uniform(0.5, 2))
        if random.random() < 0.5:  # Enter: the form's own hx-get, no "live"
            _, body = self.htmx("/search?" + urlencode({"q": query}), "/search (htmx)", target="main", marker="results")
            self.counts(body)
        self.here = "/search?" + urlencode({"q": query})  # HX-Push-Url
        more = NEXT_RESULTS.search(body)
        if more and random.random() < 0.3:
            time.sleep(random.uniform(2, 5))
            _, page_two = self.htmx(html.unescape(more.group(1)), "/search?page= (htmx)", target="results",
                                    marker="results")
            body = page_two or body
        hits = HIT_LINK.findall(body)
        if hits and random.random() < 0.7:
            time.sleep(random.uniform(2, 6))
            self.read_answer(random.choice(hits[:5]))

    def counts(self, body: str) -> None:
        url = COUNTS_URL.search(body)
        if url:
            self.htmx(html.unescape(url.group(1)), "/search/counts (htmx)", marker="facets")


class OpenPage(Visitor):
    """A tab left open on an answer: polls the supporter bar every SUPPORT_POLL_SECONDS,
    sending back the ETag it was given; a 304 while nobody pledged."""

    weight = 10
    wait_time = constant(POLL_SECONDS)
    etag: str | None = None

    def on_start(self) -> None:
        super().on_start()
        self.open()

    def open(self) -> None:
        self.page(f"/q/{_pick([], ANSWERED or SLUGS) or 'why-is-the-sky-blue'}", "/q/[slug]")
        self.etag = None  # the widget carried the bar; its first poll gets the tag

    @task(30)
    def poll(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        response, _ = self.htmx("/support/progress", "/support/progress (htmx)", target="support-progress",
                                trigger="support-progress", expect=(200, 304), extra=headers)
        POLLS[str(response.status_code)] += 1
        self.etag = response.headers.get("ETag") or self.etag

    @task(1)
    def elsewhere(self) -> None:
        self.open()


class Supporter(Visitor):
    """Logged in (accounts made beforehand by bench/load.py); reads, and now and then
    pledges with the widget's form: its CSRF token and idempotency key come from the
    rendered widget; one pledge in ten is sent twice (a double click, a retry) and must
    be counted once."""

    weight = 5
    wait_time = between(3, 10)

    def on_start(self) -> None:
        super().on_start()
        if _account_numbers is None:
            raise RuntimeError("no supporter accounts: set PLUMB_LOAD_ACCOUNTS and PLUMB_LOAD_PASSWORD (bench/load.py does)")
        self.email = f"load-supporter-{next(_account_numbers)}@example.org"
        _, body = self.get("/login", "/login", marker="csrf_token")
        token = CSRF_FIELD.search(body)
        with self.client.post("/login", name="/login", catch_response=True,
                              data={"csrf_token": html.unescape(token.group(1)) if token else "",
                                    "email": self.email, "password": PASSWORD, "next": ""},
                              headers={"Origin": self.host.rstrip("/"), "Referer": self.absolute("/login")}) as response:
            if response.status_code != 200 or 'href="/account"' not in (response.text or ""):  # the header names them
                response.failure(f"could not log in as {self.email}: {response.status_code}")
        self.here = "/"

    @task(10)
    def read(self) -> None:
        slug = _pick([], ANSWERED or SLUGS)
        if slug:
            self.read_answer(slug)

    @task(1)  # about one pledge per supporter every two minutes: most polls stay 304
    def pledge(self) -> None:
        self.page(f"/q/{_pick([], ANSWERED or SLUGS)}", "/q/[slug]")
        if THANKED in self.last_widget:  # a supporter is thanked, not asked again: /support has the form
            self.page("/support", "/support")
        token, key = CSRF_FIELD.search(self.last_widget), KEY_FIELD.search(self.last_widget)
        if not token or not key:  # logged out, or the campaign is over: a failure to look into
            events.request.fire(request_type="CHECK", name="pledge form in the widget", response_time=0,
                                response_length=0, exception=AssertionError("the widget has no pledge form"),
                                context={})
            return
        time.sleep(random.uniform(3, 10))  # choosing an amount
        amount = random.choice(("500", "1000", "1000", "2500", "custom"))
        form = {"csrf_token": html.unescape(token.group(1)), "key": key.group(1), "amount": amount,
                "custom_amount": str(random.randint(1, 200)) if amount == "custom" else "",
                "frequency": random.choice(("once", "once", "monthly")),
                "public_name": random.choice(("", "", "A reader")), "message": random.choice(("", "Thanks!"))}
        self.send_pledge(form, "Thank you")
        if random.random() < 0.1:
            self.send_pledge(form, "counted once")

    def send_pledge(self, form: dict, marker: str) -> None:
        headers = self.htmx_headers(target="support-widget") | {"X-CSRFToken": form["csrf_token"],
                                                                 "Origin": self.host.rstrip("/")}
        with self.client.post("/support/pledge", name="/support/pledge (htmx)", data=form, headers=headers,
                              catch_response=True) as response:
            if response.status_code != 200 or marker not in (response.text or ""):
                response.failure(f"{response.status_code}, no {marker!r}: {(response.text or '')[:200]!r}")

    @task(1)
    def mine(self) -> None:
        self.page("/support/mine", "/support/mine", marker="</html>")

    @task(1)
    def campaign(self) -> None:
        self.page("/support", "/support")


@events.test_stop.add_listener
def _write_polls(environment, **_kwargs) -> None:
    """How the polls were answered, for bench/load.py's summary (one file per process)."""
    out = os.environ.get("PLUMB_LOAD_OUT")
    if out and sum(POLLS.values()):
        Path(out, f"polls-{os.getpid()}.json").write_text(json.dumps(POLLS))
