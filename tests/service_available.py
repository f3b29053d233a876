"""`python -m tests.service_available postgres|redis URL`: exit 0 when that server
answers (PostgreSQL: with the extensions search needs), 1 otherwise (`make test` runs
the second pass only against what answers, and says why it did not)."""
import sys

import redis
from sqlalchemy import create_engine, text

EXTENSIONS = {"unaccent": "contrib", "pg_trgm": "contrib", "rum": "Debian: postgresql-15-rum"}


def _postgres(url: str) -> None:
    with create_engine(url, connect_args={"connect_timeout": 3}).connect() as connection:
        missing = set(EXTENSIONS) - set(connection.scalars(
            text("select name from pg_available_extensions where name = any(:names)"), {"names": list(EXTENSIONS)}))
    if missing:  # the PostgreSQL search engine's index and words need them (docs/search.md)
        raise RuntimeError("missing extensions: " + ", ".join(f"{n} ({EXTENSIONS[n]})" for n in sorted(missing)))


def _redis(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=3).ping()


def main(kind: str, url: str) -> int:
    try:
        {"postgres": _postgres, "redis": _redis}[kind](url)
    except Exception as error:  # any failure means "not here"
        print(f"{kind} not available: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
