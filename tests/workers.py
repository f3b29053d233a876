"""Each pytest-xdist worker (`pytest -n 2`, as `make test` runs) gets services of its own,
so two workers never see each other's rows or rate-limit counts: on PostgreSQL a database
beside the one TEST_DATABASE_URL names (test_gw0, test_gw1, ...; made if missing, kept
for the next run), in Redis a numbered database of its own (REDIS_FIRST_DB + n).

Files stay whole on one worker (`--dist loadfile`), so what a file shares between its own
tests (tests/test_operations.py flushes Redis database 2) is never used by two at once.
The workers' environment is rewritten before any test module is imported; servers and
commands the tests start inherit it."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from sqlalchemy import create_engine, make_url, text

# Redis databases 0-7 are the run's own and the bench's (bench/load.py uses 4); the
# workers take 8 and up, one each.
REDIS_FIRST_DB = 8


def worker_number() -> int | None:
    """0, 1, ... under pytest-xdist; None when the suite runs in one process."""
    name = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ...
    return int(name.removeprefix("gw")) if name else None


def separate_services() -> None:
    number = worker_number()
    if number is None:
        return
    if url := os.environ.get("TEST_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = _own_database(url, f"gw{number}")
    if url := os.environ.get("TEST_REDIS_URL"):
        os.environ["TEST_REDIS_URL"] = _own_redis_database(url, number)


def _own_database(url: str, suffix: str) -> str:
    address = make_url(url)
    own = f"{address.database}_{suffix}"
    engine = create_engine(address, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if not connection.scalar(text("select 1 from pg_database where datname = :name"), {"name": own}):
                connection.execute(text(f'CREATE DATABASE "{own}"'))
    finally:
        engine.dispose()
    return address.set(database=own).render_as_string(hide_password=False)


def _own_redis_database(url: str, number: int) -> str:
    database = REDIS_FIRST_DB + number
    if database > 15:
        raise RuntimeError(f"Redis has 16 databases: at most {16 - REDIS_FIRST_DB} test workers (pytest -n)")
    return urlsplit(url)._replace(path=f"/{database}").geturl()
