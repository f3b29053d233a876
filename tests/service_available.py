"""`python -m tests.service_available postgres|redis URL`: exit 0 when that server
answers, 1 otherwise (`make test` runs the second pass only against what answers)."""
import sys

import redis
from sqlalchemy import create_engine, text


def _postgres(url: str) -> None:
    with create_engine(url, connect_args={"connect_timeout": 3}).connect() as connection:
        connection.execute(text("select 1"))


def _redis(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=3).ping()


def main(kind: str, url: str) -> int:
    try:
        {"postgres": _postgres, "redis": _redis}[kind](url)
    except Exception as error:  # any failure means "not here"
        print(f"{kind} not available: {error.__class__.__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
