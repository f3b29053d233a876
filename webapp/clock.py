"""The time as the database stores it: UTC, without a zone (SQLite keeps no zone, and
every column here means UTC)."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
