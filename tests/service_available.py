"""`python -m tests.service_available postgres|redis URL`: exit 0 when that server
answers (PostgreSQL: with the extensions search needs), 69 (EX_UNAVAILABLE) when nothing
listens there or an extension is missing, saying which. `make test` runs the second pass
only against what answers, and says why it did not.

Only those two mean "not here": a server that listens but refuses us (a wrong password, a
missing database, a Redis database number out of range) is a mistake to fix, so its
error shows with its traceback (exit 1) and `make test` stops."""
import os
import socket
import sys

import redis
from sqlalchemy import create_engine, make_url, text

EXTENSIONS = {"unaccent": "contrib", "pg_trgm": "contrib", "rum": "Debian: postgresql-15-rum"}


class NotThere(Exception):
    """Nothing listens at the address, or PostgreSQL lacks an extension search needs."""


def _listening(host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:  # refused, unreachable, no such host, timed out
        raise NotThere(f"nothing answers on {host}:{port} ({error})") from None


def _postgres(url: str) -> None:
    address = make_url(url)
    if address.host:  # else a Unix socket, which the driver finds
        _listening(address.host, address.port or 5432)
    with create_engine(url, connect_args={"connect_timeout": 3}).connect() as connection:
        missing = set(EXTENSIONS) - set(connection.scalars(
            text("select name from pg_available_extensions where name = any(:names)"), {"names": list(EXTENSIONS)}))
    if missing:  # the PostgreSQL search engine's index and words need them (docs/search.md)
        raise NotThere("missing extensions: " + ", ".join(f"{n} ({EXTENSIONS[n]})" for n in sorted(missing)))


def _redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    address = client.connection_pool.connection_kwargs
    if "path" not in address:  # not a Unix socket
        _listening(address.get("host", "localhost"), address.get("port", 6379))
    client.ping()


def main(kind: str, url: str) -> int:
    try:
        {"postgres": _postgres, "redis": _redis}[kind](url)
    except NotThere as reason:
        print(f"{kind} not available: {reason}", file=sys.stderr)
        return os.EX_UNAVAILABLE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
