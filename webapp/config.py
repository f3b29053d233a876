"""Settings read from the environment, with safe defaults for development."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

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
        "SQLALCHEMY_DATABASE_URI": database,
        # whoosh | postgres; empty: postgres when the database is PostgreSQL, else whoosh.
        "SEARCH_ENGINE": os.environ.get("SEARCH_ENGINE", ""),
        # Past this many matches a search counts a sample and says "about N".
        "SEARCH_COUNT_CAP": int(os.environ.get("SEARCH_COUNT_CAP", "5000")),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR", str(ROOT / "search_index")),
        # How long a write waits for the index lock before leaving its change in the outbox.
        "SEARCH_LOCK_TIMEOUT": float(os.environ.get("SEARCH_LOCK_TIMEOUT", "2.0")),
        "SEARCH_DRAIN_ON_COMMIT": True,
        # Serving processes rebuild a missing index in a thread and say so meanwhile.
        "SEARCH_REBUILD_IN_BACKGROUND": True,
        # Strict-Transport-Security max-age in production (0 sends none).
        "HSTS_SECONDS": int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600))),
        "SITE_NAME": os.environ.get("SITE_NAME", "Plumb"),
        # Absolute base for canonical and OpenGraph URLs; the request's host if unset.
        "SITE_URL": os.environ.get("SITE_URL", "").rstrip("/"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_DAYS": 30,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Per address: every attempt counts. Per account: only failed ones.
        "LOGIN_LIMIT_ADDRESS": os.environ.get("LOGIN_LIMIT_ADDRESS", "20 per minute;200 per day"),
        "LOGIN_LIMIT_ACCOUNT": os.environ.get("LOGIN_LIMIT_ACCOUNT", "5 per minute;30 per day"),
        "REGISTER_LIMIT_ADDRESS": os.environ.get("REGISTER_LIMIT_ADDRESS", "10 per hour;50 per day"),
        # How often an open page asks whether the supporter count moved (a 304 if not).
        "SUPPORT_POLL_SECONDS": int(os.environ.get("SUPPORT_POLL_SECONDS", "15")),
        "PLEDGE_LIMIT": os.environ.get("PLEDGE_LIMIT", "20 per minute;200 per day"),
        "PAGE_SIZE": 10,
        "ANSWER_REQUEST_LIMIT": os.environ.get("ANSWER_REQUEST_LIMIT", "10 per minute;100 per day"),
        "OUTDATED_AFTER_MONTHS": 12,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }
