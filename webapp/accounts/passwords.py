"""Password rules and hashing: 12 to 128 characters of any script, never truncated,
refused when easy to guess, hashed with scrypt."""
from __future__ import annotations

import unicodedata
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn scores 0-4; below 3 the password is found in common-password lists, is a
# keyboard walk, a repeat or a dictionary word with obvious changes.
MIN_SCORE = 3


def normalized(password: str) -> str:
    # The same password typed on another keyboard or system can arrive composed
    # differently (é as one code point or two); NFC makes them equal.
    return unicodedata.normalize("NFC", password)


def problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password cannot be used, or None."""
    password = normalized(password)
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    # Imported here: its word lists are 12 MB in every worker, and only the few pages that
    # set a password use them.
    from zxcvbn import zxcvbn

    # zxcvbn refuses more than 72 characters (its cost grows fast with length); a
    # password whose first 72 characters are hard to guess is hard to guess.
    result = zxcvbn(password[:72], user_inputs=[s for s in (email, email.split("@")[0], name) if s])
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "It would be easy to guess."
        return f"That password is too common or too easy to guess. {hint}".strip()
    return None


def hashed(password: str) -> str:
    return generate_password_hash(normalized(password), method="scrypt")


def matches(password_hash: str, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash, normalized(password))


@cache
def dummy_hash() -> str:
    """Checked when an address has no account, so a wrong address costs as long as a
    wrong password and response times do not tell which addresses have accounts."""
    return hashed("not a real password, only for timing")
