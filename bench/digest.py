"""Who is owed a daily digest, on a year of following (issue 18): the statement
`flask following notify` starts every run with, timed on a database made for it.

    .venv/bin/python bench/digest.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_digest \
        [--accounts 50000] [--follows 5] [--changes 1000000] [--digests 20] [--untold 500] [--keep]

Makes the database afresh (create_all; nothing else is in it): ACCOUNTS confirmed
accounts, each following FOLLOWS of 20,000 questions; CHANGES changes over a year;
DIGESTS digests per account, the last telling every change but for UNTOLD accounts,
whose questions changed since. Then times `digest.accounts_with_news` (median of 5)
and what a run then reads for each account it returned, and prints the statement's plan. To compare two versions of the code, run it twice with --keep and
PYTHONPATH pointing at each checkout. Figures: docs/performance.md."""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.following import digest  # noqa: E402

QUESTIONS = 20_000

FILL = [
    ("questions", f"""INSERT INTO question (id, slug, text, text_key, status, summary, created_at, updated_at,
                       request_count)
                     SELECT g, 'q-' || g, 'Question ' || g || '?', 'question ' || g, 'answered', '',
                            now(), now(), 0 FROM generate_series(1, {QUESTIONS}) g"""),
    ("accounts", """INSERT INTO user_account (id, email, display_name, password_hash, session_token, is_editor,
                      created_at, confirmed_at)
                    SELECT g, 'r' || g || '@example.org', 'Reader ' || g, 'x', 't' || g, false,
                           now() - interval '400 days', now() - interval '400 days'
                      FROM generate_series(1, :accounts) g"""),
    ("settings", """INSERT INTO follow_settings (user_id, feed_token, email_digest)
                    SELECT g, 'feed-' || g, true FROM generate_series(1, :accounts) g"""),
    ("follows", f"""INSERT INTO question_follow (user_id, question_id, created_at, seen_at)
                   SELECT u, 1 + ((u * 7919 + k * 104729) % {QUESTIONS}), now() - interval '380 days', now()
                     FROM generate_series(1, :accounts) u, generate_series(1, :follows) k
                   ON CONFLICT DO NOTHING"""),
    # A year of changes, oldest first, spread over the questions.
    ("changes", f"""INSERT INTO question_change (id, question_id, kind, created_at)
                   SELECT g, 1 + ((g * 2654435761) % {QUESTIONS}), 'updated',
                          now() - interval '365 days' + g * interval '365 days' / :changes
                     FROM generate_series(1, :changes) g"""),
    # Each account told DIGESTS times over the year, the last up to the newest change.
    ("digests", """INSERT INTO follow_digest (user_id, first_change_id, last_change_id, changes, status, created_at)
                   SELECT u, 1 + (d - 1) * (:changes / :digests), d * (:changes / :digests), 1, 'sent',
                          now() - interval '365 days' + d * interval '365 days' / :digests
                     FROM generate_series(1, :accounts) u, generate_series(1, :digests) d"""),
    # UNTOLD accounts' questions changed after their last digest.
    ("untold", f"""INSERT INTO question_change (id, question_id, kind, created_at)
                  SELECT :changes + u, 1 + ((u * 7919 + 104729) % {QUESTIONS}), 'updated', now()
                    FROM generate_series(1, :untold) u"""),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--follows", type=int, default=5)
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--digests", type=int, default=20)
    parser.add_argument("--untold", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="use the database as an earlier run left it")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.postgres, "SEARCH_ENGINE": "postgres", "SECRET_KEY": "x",
                      "SEARCH_INDEX_DIR": "/nonexistent/unused"})
    values = {k: getattr(args, k) for k in ("accounts", "follows", "changes", "digests", "untold")}
    with app.app_context():
        if not args.keep:
            db.drop_all()
            db.create_all()
            for name, statement in FILL:
                start = time.perf_counter()
                db.session.execute(text(statement), values)
                db.session.commit()
                print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        times, found, ran = [], [], []
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, statement, parameters, *_a: ran.append((statement, parameters)))
        for _ in range(5):
            start = time.perf_counter()
            found = digest.accounts_with_news(db.session)
            times.append((time.perf_counter() - start) * 1000)
            db.session.rollback()
        statement, parameters = ran[-1]
        # What a run then does for each account before sending (or finding nothing new).
        start = time.perf_counter()
        owed = sum(bool(digest.service.changes_for(db.session, user_id, after=digest._told_up_to(db.session, user_id),
                                                   limit=digest.MOST_CHANGES, newest_first=False))
                   for user_id in found)
        looked = time.perf_counter() - start
        print(f"{platform.node()}: accounts with news {len(found):,} of {args.accounts:,}; "
              f"accounts_with_news median {statistics.median(times):.0f} ms (min {min(times):.0f}, "
              f"max {max(times):.0f}); looking at each of them {looked:.1f} s, {owed:,} owed a digest")
        print(statement)
        for (line,) in db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters):
            print(line)


if __name__ == "__main__":
    main()
