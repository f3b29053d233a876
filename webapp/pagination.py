"""Reading a `?page=` argument: a clear 400 for anything but a positive whole number."""
from __future__ import annotations

from flask import abort, request

MAX_PAGE = 100_000


def page_number() -> int:
    raw = request.args.get("page", "1").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description="The page number must be a whole number from 1 upwards.")
    return int(raw)
