"""Exit 0 when the Redis server named on the command line answers, 1 otherwise."""
import sys

import redis


def main(url: str) -> int:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as error:  # any failure means "not here"
        print(f"Redis not available: {error.__class__.__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
