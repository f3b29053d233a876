"""Extensions are created here and bound to the app in the factory."""
from __future__ import annotations

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase

# Flask-WTF's, with a new token at each sign-in (the one before is accepted once, briefly).
from webapp.csrf_tokens import CSRFProtect


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()
# Storage comes from RATELIMIT_STORAGE_URI: Redis (shared by workers) or memory.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Rendered answer bodies (webapp/answers/cache.py): Redis when REDIS_URL is set, shared by
# every worker and server; per process otherwise (CACHE_TYPE in webapp/config.py).
cache = Cache()
