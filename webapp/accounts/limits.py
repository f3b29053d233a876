"""Rate limits on logging in, registering and mailing: they slow a guesser without
letting anyone lock an account's owner out (the policy, and why: docs/accounts.md).

- Every login attempt counts against the client's address (LOGIN_LIMIT_ADDRESS).
- A wrong password counts against the account *and* that address
  (LOGIN_LIMIT_ACCOUNT_ADDRESS), and against the account from anywhere: past
  LOGIN_FREE_FAILURES of those, the account waits LOGIN_DELAY_SECONDS, doubling with each
  further failure up to LOGIN_MAX_DELAY_SECONDS. Only addresses that have themselves
  failed for the account are made to wait; the owner, logging in from an address that
  did not guess, gets in while strangers guess elsewhere.
- Mail to one address is limited whoever asks for it (MAIL_LIMIT_RECIPIENT).

Every counter lives in the limiter's storage (Redis when REDIS_URL is set), so every
worker and app server sees the same counts. An attempt that is made to wait is refused
before its password is checked: 429 with Retry-After."""
from __future__ import annotations

import math
import time
from functools import wraps

from flask import current_app, g, make_response, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from webapp.accounts.service import normalized_email
from webapp.counting import failed, limit_prefix, succeeded
from webapp.extensions import limiter

# How long an account's wrong passwords are remembered, from the first one; the delay
# they cause never exceeds LOGIN_MAX_DELAY_SECONDS.
FAILURE_MEMORY_SECONDS = 24 * 3600


def _setting(name: str):
    return lambda: current_app.config[name]


def account_key(email: str) -> str:
    return "account:" + normalized_email(email)[:254]


def _login_account() -> str:
    return account_key(request.form.get("email") or "")


def _current_account() -> str:
    """Changing a password: the account logged in (its address, so it shares the counts)."""
    return account_key(current_user.email or f"user-{current_user.id}")


def _pair_limits():
    return parse_many(current_app.config["LOGIN_LIMIT_ACCOUNT_ADDRESS"])


def _count_key(account: str) -> str:
    return f"{limit_prefix()}/login-failures/{account}"


def _wait_key(account: str) -> str:
    return f"{limit_prefix()}/login-wait/{account}"


def delay_after(failures: int) -> int:
    """Seconds an account waits after `failures` wrong passwords in a row (from anywhere)."""
    extra = failures - current_app.config["LOGIN_FREE_FAILURES"]
    if extra <= 0:
        return 0
    first, cap = current_app.config["LOGIN_DELAY_SECONDS"], current_app.config["LOGIN_MAX_DELAY_SECONDS"]
    return min(cap, first * 2 ** min(extra - 1, 32))


def wait_seconds(account: str, address: str) -> int:
    """How long an attempt on `account` from `address` must wait; 0 when it may be checked now."""
    strategy, now = limiter.limiter, time.time()
    waits = []
    failed_here = False
    for item in _pair_limits():
        stats = strategy.get_window_stats(item, limit_prefix(), "login-failed", account, address)
        failed_here = failed_here or stats.remaining < item.amount
        if stats.remaining == 0:
            waits.append(stats.reset_time - now)
    if not failed_here:
        return 0  # an address that has not failed is never held up by others' guesses
    storage = limiter.storage
    if storage.get(_wait_key(account)):
        waits.append(storage.get_expiry(_wait_key(account)) - now)
    # Rounded: Redis counts whole seconds, so an exact minute reads as 60.0-something.
    return max(0, round(max(waits, default=0)))


def record_failure(account: str, address: str) -> None:
    for item in _pair_limits():
        limiter.limiter.hit(item, limit_prefix(), "login-failed", account, address)
    storage = limiter.storage
    failures = storage.incr(_count_key(account), FAILURE_MEMORY_SECONDS)
    if delay := delay_after(failures):
        # Restarted, not extended: each failure sets the wait from now (a race between
        # two workers gives two waits of about the same length, which is harmless).
        storage.clear(_wait_key(account))
        storage.incr(_wait_key(account), delay)


def record_success(account: str, address: str) -> None:
    """This address knows the password: its own failures are forgiven (the account's are
    not, or a guesser who also knows one password could reset its delay)."""
    for item in _pair_limits():
        limiter.limiter.clear(item, limit_prefix(), "login-failed", account, address)


def wait_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    when = f"{minutes} minutes" if minutes > 1 else "a minute"
    return f"Too many wrong passwords for this account from here. Please wait {when} and try again."


def wrong_password() -> None:
    """Called by a view that has just found the password wrong: that, and only that, counts
    against the account (not a new password the rules refuse, not a bad form)."""
    g.wrong_password = True


def _password_attempts(account_of):
    """Hold up attempts from addresses that guessed wrong, and count what each attempt was."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if request.method != "POST":
                return view(*args, **kwargs)
            account, address = account_of(), get_remote_address()
            if wait := _unless_storage_fails(wait_seconds, account, address, otherwise=0):
                raise TooManyRequests(description=wait_message(wait), retry_after=wait)
            response = make_response(view(*args, **kwargs))
            if g.get("wrong_password"):
                _unless_storage_fails(record_failure, account, address)
            elif response.status_code < 400:
                _unless_storage_fails(record_success, account, address)
            return response

        return guarded

    return decorate


def _per_address(setting: str, scope: str):
    # Shared scopes, so the login page and the support widget's inline login draw on the same allowance.
    return limiter.shared_limit(_setting(setting), scope=scope, methods=["POST"])


def login(view):
    return _per_address("LOGIN_LIMIT_ADDRESS", "login-address")(_password_attempts(_login_account)(view))


def password_check(view):
    """The account page's forms that ask for the current password (change it, delete the account)."""
    return _per_address("LOGIN_LIMIT_ADDRESS", "login-address")(_password_attempts(_current_account)(view))


def register(view):
    # Registering answers alike whether the address has an account or not, so there is
    # nothing to fish for per account; mail to the address is limited below.
    return _per_address("REGISTER_LIMIT_ADDRESS", "register-address")(view)


def may_mail(recipient: str) -> bool:
    """Whether one more message may go to `recipient` now (and count it if so)."""
    return _unless_storage_fails(
        lambda: all(limiter.limiter.hit(item, limit_prefix(), "mail", normalized_email(recipient)[:254])
                    for item in parse_many(current_app.config["MAIL_LIMIT_RECIPIENT"])), otherwise=True)


def _unless_storage_fails(action, *args, otherwise=None):
    """`action`, or `otherwise` when the limiter's storage (Redis) does not answer.

    The limits open rather than every login failing, as Flask-Limiter's own do
    (RATELIMIT_SWALLOW_ERRORS): a Redis outage must not lock everyone out."""
    try:
        result = action(*args)
    except Exception as error:  # the storage's own errors (redis.ConnectionError, timeouts, ...)
        failed("login limits", error, what="login limits' storage", consequence="not applied until it answers")
        return otherwise
    succeeded("login limits")
    return result
