"""Settings read from the environment, with safe defaults for development."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _dev_secret_key() -> str:
    """A random key kept under instance/ so dev sessions survive restarts."""
    path = INSTANCE / "secret_key"
    try:
        return path.read_text().strip()
    except OSError:
        INSTANCE.mkdir(exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        return key


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def from_environment() -> dict:
    env = os.environ.get("PLUMB_ENV", "development")
    production = env == "production"
    secret = os.environ.get("SECRET_KEY")
    if production and not secret:
        raise RuntimeError("SECRET_KEY must be set when PLUMB_ENV=production")
    database = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'plumb.db'}")
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver name.
    if database.startswith("postgres://"):
        database = "postgresql+psycopg://" + database[len("postgres://"):]
    elif database.startswith("postgresql://"):
        database = "postgresql+psycopg://" + database[len("postgresql://"):]
    return {
        "PLUMB_ENV": env,
        "SECRET_KEY": secret or _dev_secret_key(),
        # Earlier keys, comma-separated: sessions they signed still open after a rotation.
        "SECRET_KEY_FALLBACKS": _names(os.environ.get("SECRET_KEY_FALLBACKS", "")),
        "SQLALCHEMY_DATABASE_URI": database,
        # whoosh | postgres; empty: postgres when the database is PostgreSQL, else whoosh.
        "SEARCH_ENGINE": os.environ.get("SEARCH_ENGINE", ""),
        # How long a write waits for a lock (SQLite's busy timeout; PostgreSQL's lock_timeout
        # for pledges) before the request is answered 503 "busy, try again".
        "DATABASE_LOCK_TIMEOUT_MS": int(os.environ.get("DATABASE_LOCK_TIMEOUT_MS", "5000")),
        # Past this many matches a search counts a sample and says "about N".
        "SEARCH_COUNT_CAP": int(os.environ.get("SEARCH_COUNT_CAP", "1000")),
        # PostgreSQL: a word in more documents than this matches only beside a rarer one.
        "SEARCH_COMMON_DOCUMENTS": int(os.environ.get("SEARCH_COMMON_DOCUMENTS", "20000")),
        # PostgreSQL: words (or phrases of them) all in more documents than this list the
        # newest rather than rank every match.
        "SEARCH_CROWDED_DOCUMENTS": int(os.environ.get("SEARCH_CROWDED_DOCUMENTS", "100000")),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR", str(ROOT / "search_index")),
        # How long a write waits for the index lock before leaving its change in the outbox.
        "SEARCH_LOCK_TIMEOUT": float(os.environ.get("SEARCH_LOCK_TIMEOUT", "2.0")),
        "SEARCH_DRAIN_ON_COMMIT": True,
        # Serving processes rebuild a missing index in a thread and say so meanwhile.
        "SEARCH_REBUILD_IN_BACKGROUND": True,
        # Search by meaning beside the words (docs/search.md); 0 turns it off.
        "SEARCH_MEANING": os.environ.get("SEARCH_MEANING", "1") != "0",
        # How alike (cosine, -1 to 1) a question found by meaning alone must be to be shown.
        "SEARCH_MEANING_FLOOR": float(os.environ.get("SEARCH_MEANING_FLOOR", "0.35")),
        # How often (seconds) a process reads the vectors other processes wrote.
        "SEARCH_MEANING_REFRESH": float(os.environ.get("SEARCH_MEANING_REFRESH", "2.0")),
        # Strict-Transport-Security max-age in production (0 sends none).
        "HSTS_SECONDS": int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600))),
        "SITE_NAME": os.environ.get("SITE_NAME", "Plumb"),
        # Absolute base for canonical and OpenGraph URLs: required in production; in
        # development the request's host stands in for it.
        "SITE_URL": os.environ.get("SITE_URL", "").rstrip("/"),
        # Host names requests may name (comma-separated; a leading dot admits subdomains);
        # others get 400. Empty: SITE_URL's host in production, any host in development.
        "TRUSTED_HOSTS": _names(os.environ.get("TRUSTED_HOSTS", "")) or None,
        # How many reverse proxies stand in front and set X-Forwarded-For/-Proto/-Host.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_DAYS": 30,
        "WTF_CSRF_TIME_LIMIT": None,
        # Shared by every worker and server (Redis) or per process (memory://, one worker only:
        # gunicorn.conf.py refuses it in production with more than one).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL")
        or "memory://",
        # Request log lines and app logs: json | text (default: json in production).
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or ("json" if production else "text"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        # /metrics answers these addresses/networks (comma-separated), or a bearer token.
        "METRICS_ALLOW": os.environ.get("METRICS_ALLOW", "127.0.0.1,::1"),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # Rendered answer bodies (webapp/answers/cache.py), keyed by the database's content
        # version: in Redis when REDIS_URL is set (shared by workers and servers), else per
        # process. A cache that errors or times out is skipped, logged once.
        "CACHE_TYPE": os.environ.get("CACHE_TYPE") or ("RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache"),
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL") or os.environ.get("REDIS_URL", ""),
        "CACHE_KEY_PREFIX": "plumb:",
        "CACHE_DEFAULT_TIMEOUT": int(os.environ.get("CACHE_DEFAULT_TIMEOUT", str(24 * 3600))),
        "CACHE_THRESHOLD": 2000,  # SimpleCache: bodies kept per process before the oldest go
        # How late the parts of an answer page that follow reading figures ("went on to read")
        # may be: they are kept this long, and with the content version, in the same cache.
        "ANSWER_SHARED_SECONDS": int(os.environ.get("ANSWER_SHARED_SECONDS", "60")),
        # Seconds a Redis cache may take to answer before the page renders without it.
        "CACHE_REDIS_TIMEOUT": float(os.environ.get("CACHE_REDIS_TIMEOUT", "0.25")),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: limits are not applied (and it is logged) rather than every limited
        # request failing; reading and writing go on, and counting skips (webapp/counting.py).
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Logging in (docs/accounts.md): every attempt counts per address; wrong passwords
        # count per account and address; past LOGIN_FREE_FAILURES wrong passwords for an
        # account (from anywhere), addresses that failed wait LOGIN_DELAY_SECONDS, doubling
        # up to LOGIN_MAX_DELAY_SECONDS. An address that has not failed is never held up.
        "LOGIN_LIMIT_ADDRESS": os.environ.get("LOGIN_LIMIT_ADDRESS", "20 per minute;200 per day"),
        "LOGIN_LIMIT_ACCOUNT_ADDRESS": os.environ.get("LOGIN_LIMIT_ACCOUNT_ADDRESS", "5 per minute;10 per 15 minutes"),
        "LOGIN_FREE_FAILURES": int(os.environ.get("LOGIN_FREE_FAILURES", "5")),
        "LOGIN_DELAY_SECONDS": int(os.environ.get("LOGIN_DELAY_SECONDS", "30")),
        "LOGIN_MAX_DELAY_SECONDS": int(os.environ.get("LOGIN_MAX_DELAY_SECONDS", "900")),
        "REGISTER_LIMIT_ADDRESS": os.environ.get("REGISTER_LIMIT_ADDRESS", "10 per hour;50 per day"),
        # Mail (confirming addresses): an SMTP server, or none to write messages to the log.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "true").lower() not in ("0", "false", "no", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Plumb <no-reply@localhost>"),
        # Messages to one address, whoever asks for them (more are silently not sent).
        "MAIL_LIMIT_RECIPIENT": os.environ.get("MAIL_LIMIT_RECIPIENT", "3 per hour;10 per day"),
        "CONFIRM_LINK_HOURS": int(os.environ.get("CONFIRM_LINK_HOURS", "48")),
        # How often an open page asks whether the supporter count moved (a 304 if not).
        "SUPPORT_POLL_SECONDS": int(os.environ.get("SUPPORT_POLL_SECONDS", "15")),
        # Other sites whose pages may show /embed/support in an iframe (docs/support.md):
        # origins (https://news.example.org; http:// only for localhost), space- or
        # comma-separated, or * for any site. Empty: Plumb's own pages only.
        "EMBED_FRAME_ANCESTORS": os.environ.get("EMBED_FRAME_ANCESTORS", ""),
        "PLEDGE_LIMIT": os.environ.get("PLEDGE_LIMIT", "20 per minute;200 per day"),
        # Who collects pledges (docs/support.md): record (nothing is collected) or stripe
        # (Stripe Checkout; the pledge counts once Stripe's signed webhook says it is paid).
        "PAYMENT_PROVIDER": os.environ.get("PAYMENT_PROVIDER", "record").strip().lower(),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # Empty: Stripe's own API; http://127.0.0.1:12111 for the local stand-in.
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "").rstrip("/"),
        # A webhook event is a few kilobytes; anything much larger is not Stripe's.
        "STRIPE_WEBHOOK_MAX_BYTES": int(os.environ.get("STRIPE_WEBHOOK_MAX_BYTES", str(256 * 1024))),
        # A pending pledge nobody paid for within this long expires (Stripe's sessions last 24 h).
        "PENDING_PLEDGE_HOURS": int(os.environ.get("PENDING_PLEDGE_HOURS", "24")),
        # Items per page: answers on category and search pages, questions on /requests,
        # names on the supporter wall.
        "PAGE_SIZE": int(os.environ.get("PAGE_SIZE", "10")),
        "REQUESTS_PAGE_SIZE": int(os.environ.get("REQUESTS_PAGE_SIZE", "20")),
        "WALL_PAGE_SIZE": int(os.environ.get("WALL_PAGE_SIZE", "20")),
        "ANSWER_REQUEST_LIMIT": os.environ.get("ANSWER_REQUEST_LIMIT", "10 per minute;100 per day"),
        "REPORT_LIMIT": os.environ.get("REPORT_LIMIT", "5 per hour;20 per day"),  # reports kept, per address and per account
        # Readers asking (docs/asking.md): asks sent, per address and per account (shared
        # through the limiter's storage); asks kept in 24 hours, per account or logged-out
        # address (counted in the database); the opened asks after which an account's asks
        # open without review (0: every ask waits); a word list of one's own.
        "ASK_LIMIT": os.environ.get("ASK_LIMIT", "10 per hour"),
        "ASK_DAILY_CAP": int(os.environ.get("ASK_DAILY_CAP", "5")),
        "ASK_TRUSTED_AFTER": int(os.environ.get("ASK_TRUSTED_AFTER", "3")),
        "ASK_WORD_LIST": os.environ.get("ASK_WORD_LIST", ""),
        # Counting readers (webapp/counting.py): one address's counts of one action (a view
        # of one answer, one gap), past the once-per-reader-per-day memory.
        "COUNT_PER_ADDRESS": os.environ.get("COUNT_PER_ADDRESS", "20 per day"),
        # Searches that found nothing: gaps one address may record, and the readers a gap
        # needs before editors see it.
        "GAP_LIMIT": os.environ.get("GAP_LIMIT", "10 per hour"),
        "GAP_MIN_READERS": int(os.environ.get("GAP_MIN_READERS", "3")),
        "OUTDATED_AFTER_MONTHS": 12,
        # An answer corrected within this many days says "Corrected on …" beside "Checked on".
        "CORRECTED_RECENTLY_DAYS": int(os.environ.get("CORRECTED_RECENTLY_DAYS", "30")),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Static files (webapp/site/static_files.py): the build `make static` writes, and
        # whether an out-of-date build is made again and picked up without a restart
        # (development only).
        "STATIC_MANIFEST": os.environ.get("STATIC_MANIFEST", str(ROOT / "static" / "build" / "manifest.json")),
        "STATIC_AUTOREFRESH": os.environ.get("STATIC_AUTOREFRESH", "" if production else "true").lower()
        in ("1", "true", "yes"),
        # Pages and htmx fragments (Flask-Compress): brotli or gzip as the browser asks.
        # Smaller bodies fit in one packet with their headers anyway; streamed responses
        # (none today) go out as they are made rather than through a compressor's buffer.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        # Brotli 4 (Flask-Compress's own): 5 makes the answer page 6% smaller but costs
        # 0.08 ms more, and server time is the tighter of issue 12's two targets
        # (docs/performance.md); 11 would cost 30 ms a page.
        "COMPRESS_BR_LEVEL": 4,
        "COMPRESS_MIN_SIZE": 1024,
        "COMPRESS_STREAMS": False,
    }


def check(settings) -> None:
    """What production needs, checked once the overrides are in: absolute URLs come from
    SITE_URL alone, and only its host (or TRUSTED_HOSTS) is answered. Payments through
    Stripe need their keys and SITE_URL everywhere: without them no pledge could be paid,
    and Stripe's return addresses must not come from a request's Host header."""
    _check_payments(settings)
    if settings["PLUMB_ENV"] != "production":
        return
    site_url = settings.get("SITE_URL") or ""
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeError("SITE_URL must be set to the site's address (https://…) when PLUMB_ENV=production")
    if not settings.get("TRUSTED_HOSTS"):
        settings["TRUSTED_HOSTS"] = [parts.hostname]


def _check_payments(settings) -> None:
    provider = settings.get("PAYMENT_PROVIDER", "record")
    if provider not in ("record", "stripe"):
        raise RuntimeError(f"PAYMENT_PROVIDER must be record or stripe, not {provider!r}")
    if provider != "stripe":
        return
    missing = [name for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SITE_URL") if not settings.get(name)]
    if missing:
        raise RuntimeError(f"PAYMENT_PROVIDER=stripe needs {', '.join(missing)} to be set")
    if not settings["STRIPE_SECRET_KEY"].startswith(("sk_", "rk_")):
        raise RuntimeError("STRIPE_SECRET_KEY must be a secret (sk_…) or restricted (rk_…) key")
    if not settings["STRIPE_WEBHOOK_SECRET"].startswith("whsec_"):
        raise RuntimeError("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_…)")
    if settings["PLUMB_ENV"] == "production" and settings.get("STRIPE_API_BASE", "").startswith("http://"):
        # The local stand-in speaks plain HTTP; in production it would mean no money moves.
        raise RuntimeError("STRIPE_API_BASE must be empty (Stripe itself) or https:// in production")
