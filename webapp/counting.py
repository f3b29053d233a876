"""Whether a request is a reader doing something for the first time today, and counting
that must never break reading. Shared by the reading figures (webapp/graph/signals.py)
and the content-gap list (webapp/search/gaps.py); no reader id and no address is ever
written to the database.

What counts (issue 10, finding 12: 30 cookie-less GETs put an answer first in "Most
read this week"):

- Known robots never count: a User-Agent that names itself a bot, a crawler, a command
  line or library HTTP client or a headless browser, or none at all (`ROBOTS`).
- The once-per-day memory lives in the reader's session cookie. A request that brings
  it is a browser that keeps cookies, and the memory decides.
- A request that brings none is a reader's first visit, or a client that keeps no
  cookies (curl, a script): nothing in the request tells them apart, and only the
  second can send it 30 times. So it counts at most once per address per action per
  day. That memory is kept in the rate-limit storage (Redis when REDIS_URL is set, so
  shared by every worker; per process without it), under a keyed hash of the address,
  and expires with the day; it never reaches the database.
- A cookie can be replayed (one taken before the action, sent again and again), so
  every address's counts of one action are capped too (`COUNT_PER_ADDRESS`, generous
  for readers behind one office or school address).

Counting only requests that bring a cookie was the other way, and was rejected: a
reader who arrives from a search engine, reads one answer and leaves (most reading of a
site of answers) brings no cookie, and "most read" would become "most read on a second
page". The price of the way taken: readers who share an address and each open the same
answer as their first page here count once that day, not once each.

Counting is secondary: a failed write (a read-only database, a full disk) or a storage
that does not answer is logged once per kind, until counting works again, and the page
renders as if it had counted."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re

from flask import current_app, request, session
from flask_limiter.util import get_remote_address
from limits import parse

from webapp.extensions import limiter

log = logging.getLogger(__name__)

SEEN_KEY = "signals"  # the session's once-per-day memory (its name from before gaps shared it)
SEEN_MAX = 50  # keeps the session cookie well under 4 KB
# Robots by User-Agent: the words crawlers put in their names, command-line and library
# HTTP clients, headless browsers, link previewers and uptime monitors. Not exhaustive (a
# robot may pose as a browser; the address memory bounds those); kept short and plain.
ROBOTS = re.compile(
    r"bot|crawl|spider|slurp|archiver|scrapy|curl|wget|httpie|python|httpx|aiohttp|go-http-client|java/|"
    r"okhttp|libwww|node-fetch|axios|headless|phantomjs|selenium|puppeteer|playwright|lighthouse|"
    r"facebookexternalhit|whatsapp|preview|monitor|uptime|pingdom|check_http",
    re.IGNORECASE)
FIRST_VISIT = parse("1 per day")  # counts per address per action for requests that bring no memory

_failing: set[str] = set()  # kinds whose last count failed, in this process (logged once)


def is_robot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(ROBOTS.search(user_agent))


def short(key: str) -> str:
    """A key short enough for the cookie's memory (a gap's query can be 200 characters)."""
    return key if len(key) <= 24 else hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def first_time_today(key: str, today: dt.date | None = None, start_memory: bool = True) -> bool:
    """True the first time this reader does `key` today, as far as we can tell; False
    for a robot, a repeat, or an address that used up its counts of `key` today.

    `start_memory=False` leaves a reader without a memory without one (and without a
    cookie): a search page sets none; the address memory covers their repeats."""
    if is_robot(request.headers.get("User-Agent", "")):
        return False
    today = today or dt.date.today()
    key = short(key)
    seen = session.get(SEEN_KEY, {})
    brought_memory = "day" in seen  # today's, or an earlier day's: a browser that keeps cookies
    if seen.get("day") != today.isoformat():
        seen = {"day": today.isoformat(), "keys": []}
    if key in seen["keys"]:
        return False
    if brought_memory or start_memory:
        seen["keys"] = (seen["keys"] + [key])[-SEEN_MAX:]
        session[SEEN_KEY] = seen
    if not (brought_memory or limiter.enabled):
        return False  # rate limiting switched off (RATELIMIT_ENABLED=false): nothing holds the address memory
    per_address = parse(current_app.config["COUNT_PER_ADDRESS"]) if brought_memory else FIRST_VISIT
    # The day in the key: a reader who comes back tomorrow is not held to today's count.
    return address_allows(per_address, "count", today.isoformat(), key)


def limit_prefix() -> str:
    """The prefix of our own keys in the rate-limit storage, beside Flask-Limiter's (tests
    give each app its own)."""
    return current_app.config.get("RATELIMIT_KEY_PREFIX") or "plumb"


def address_allows(limit, *what: str) -> bool:
    """Take one of this address's allowance of `what` in the shared rate-limit storage;
    False when it is used up, or when the storage cannot say (counting is secondary).

    The address is kept only as a keyed hash, and only for the limit's window."""
    if not limiter.enabled:
        return True  # rate limiting switched off: there is no allowance to take
    secret = current_app.secret_key
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    address = hmac.new(secret, (get_remote_address() or "").encode(), hashlib.sha256).hexdigest()[:20]
    try:
        allowed = limiter.limiter.hit(limit, limit_prefix(), *what, address)
    except Exception as error:  # Redis gone: a count lost, never a page
        failed("rate-limit storage", error)
        return False
    succeeded("rate-limit storage")
    return allowed


def failed(kind: str, error: BaseException, what: str | None = None,
           consequence: str = "pages go on without it") -> None:
    """Log a failure once per kind per process, until that kind works again (`succeeded`):
    one line an operator can act on, not a traceback per request."""
    if kind not in _failing:
        _failing.add(kind)
        cause = getattr(error, "orig", None) or error  # the driver's words, not the statement
        words = str(cause).strip().splitlines()
        log.error("%s failed; %s (logged once until it works again): %s: %s", what or f"counting {kind}",
                  consequence, type(cause).__name__, words[0] if words else "")


def succeeded(kind: str) -> None:
    if _failing:
        _failing.discard(kind)
