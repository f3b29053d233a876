"""Exit 0 when the PostgreSQL server named on the command line answers, 1 otherwise."""
import sys

from sqlalchemy import create_engine, text


def main(url: str) -> int:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # any failure means "not here"
        print(f"PostgreSQL not available: {error.__class__.__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
