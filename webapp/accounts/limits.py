"""Rate limits on logging in and registering, per address and per account.

Shared scopes, so the login page and the support widget's inline login draw on the same
allowance. The storage is Redis when REDIS_URL is set (shared by every worker)."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from webapp.accounts.service import normalized_email
from webapp.extensions import limiter


def _account_key() -> str:
    email = request.form.get("email")
    if email is None and current_user.is_authenticated:  # changing a password
        return f"user:{current_user.id}"
    return "account:" + normalized_email(email or "")[:254]


def _failed(response) -> bool:
    # Only wrong passwords use up an account's allowance: a reader who logs in, out and
    # in again is not guessing.
    return response.status_code >= 400


def _setting(name: str):
    return lambda: current_app.config[name]


def _per_account(view):
    return limiter.shared_limit(_setting("LOGIN_LIMIT_ACCOUNT"), scope="login-account", key_func=_account_key,
                                methods=["POST"], deduct_when=_failed)(view)


def login(view):
    return limiter.shared_limit(_setting("LOGIN_LIMIT_ADDRESS"), scope="login-address", methods=["POST"])(
        _per_account(view))


def register(view):
    # Per account too: "this address has an account already" answers must not be
    # fished for faster than wrong passwords can be tried.
    return limiter.shared_limit(_setting("REGISTER_LIMIT_ADDRESS"), scope="register-address", methods=["POST"])(
        _per_account(view))
