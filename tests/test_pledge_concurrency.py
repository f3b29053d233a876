"""A crowd pledging at once through gunicorn with several workers: every pledge counted
once, none lost, no server error, and the counters equal what the pledge rows say.

20 readers, each logged in in their own cookie jar, send 240 htmx pledge POSTs (12
each) to 3 gunicorn workers. A quarter of them repeat a key the same reader used
before (a retry, back-and-resubmit) or is sending at the same moment (a double click,
two tabs: fired together behind a barrier). Runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set."""
from __future__ import annotations

import html
import random
import re
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select

from tests.pledging import make_campaign
from tests.readers import make_user
from tests.servers import Answer, Reader, gunicorn
from webapp.extensions import db
from webapp.support import pledges
from webapp.support.models import Campaign, Pledge
from webapp.support.money import format_money

WORKERS = 3
READERS = 20
REPEAT_NOTE = "we had it already; it is counted once"


# --- the crowd's plan ------------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    user: int  # the reader's index
    key: str
    cents: int
    fields: tuple  # the form as posted


def make_form(rng: random.Random, user: int) -> Form:
    key = pledges.new_key()
    if rng.random() < 0.5:
        preset = rng.choice((500, 1000, 2500))
        amount, custom, cents = str(preset), "", preset
    else:
        cents = rng.randint(100, 1_000_000)
        amount, custom = "custom", f"{cents // 100}.{cents % 100:02d}"
    fields = {"amount": amount, "custom_amount": custom, "frequency": rng.choice(("once", "monthly")),
              "public_name": rng.choice(("", f"Reader {user}")), "message": rng.choice(("", "Keep going!")),
              "key": key}
    return Form(user, key, cents, tuple(fields.items()))


def plan(rng: random.Random, user: int) -> list[list[Form]]:
    """12 POSTs in 9 or 10 shots; each shot's POSTs leave together. 9 distinct keys and
    3 repeats: a double click on the reader's very first pledge (even readers) or two
    tabs pledging at once (odd readers: their first pledges race), double clicks later
    on, and one retry of a pledge that was answered long before."""
    forms = [make_form(rng, user) for _ in range(9)]
    first = [forms[0], forms[0]] if user % 2 == 0 else [forms[0], forms[1]]
    later = [[form] for form in forms[1 if user % 2 == 0 else 2:]]
    for shot in rng.sample(later, 1 if user % 2 == 0 else 2):
        shot.append(shot[0])  # the same form sent twice at once
    return [first, *later, [rng.choice(forms[:5])]]


def send(reader: Reader, shots: list[list[Form]], start: threading.Barrier) -> list[tuple[Form, Answer]]:
    answers = []
    start.wait(60)
    with ThreadPoolExecutor(2) as pair:
        for shot in shots:
            together = threading.Barrier(len(shot))

            def post(form: Form, together=together) -> Answer:
                together.wait(30)
                return reader.pledge(dict(form.fields))

            futures = [pair.submit(post, form) for form in shot]
            answers.extend((form, future.result()) for form, future in zip(shot, futures, strict=True))
    return answers


# --- the test ------------------------------------------------------------------------

def test_a_crowd_of_pledges_is_counted_exactly_once(app, tmp_path):
    campaign_id = make_campaign(app)
    emails = [f"reader{n}@example.org" for n in range(READERS)]
    user_ids = [make_user(app, email, f"Reader {n}") for n, email in enumerate(emails)]
    rng = random.Random(5)
    plans = [plan(rng, n) for n in range(READERS)]
    posts = [form for shots in plans for shot in shots for form in shot]
    keys = {form.key: form for form in posts}
    assert len(posts) >= 200 and (len(posts) - len(keys)) / len(posts) >= 0.25

    with gunicorn(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"]) as server:
        try:
            readers = [Reader(server.url, email) for email in emails]
            with ThreadPoolExecutor(READERS) as pool:
                list(pool.map(Reader.log_in, readers))
                start = threading.Barrier(READERS)
                results = [answer for answers in pool.map(send, readers, plans, [start] * READERS)
                           for answer in answers]
            bar = readers[0].request("/support/progress", headers={"HX-Request": "true"})

            statuses = Counter(answer.status for _, answer in results)
            assert len(results) == len(posts)
            assert not [a for _, a in results if a.status >= 500], statuses
            assert not [a for _, a in results if "database is locked" in a.body]
            assert statuses == {200: len(posts)}, statuses
            # Every answer is the thank-you for that key's pledge; exactly one per key is
            # the first, every repeat says it was counted once.
            by_key = defaultdict(list)
            for form, answer in results:
                thanks = html.unescape(re.sub(r"\s+", " ", answer.body))
                assert f"Your pledge of {format_money(form.cents)}" in thanks, thanks[:500]
                by_key[form.key].append(REPEAT_NOTE in thanks)
            assert all(notes.count(False) == 1 for notes in by_key.values()), \
                [notes for notes in by_key.values() if notes.count(False) != 1]
            # Another reader's bar shows the true count.
            count = re.search(r'id="support-count"[^>]*>([^<]*)<', bar.body)
            assert bar.status == 200 and re.search(rf'<progress[^>]* value="{READERS}"', bar.body), bar.body
            assert count and re.match(rf"{READERS}\b.*\b1,000 supporters", count.group(1)), bar.body
            output = server.output()
            assert "database is locked" not in output and "WORKER TIMEOUT" not in output, output
        except BaseException:
            print(f"--- gunicorn output ---\n{server.output()}")
            raise

    expected_amount = sum(form.cents for form in keys.values())
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        rows = db.session.execute(select(Pledge.idempotency_key, Pledge.amount_cents, Pledge.user_id)).all()
        pledgers = db.session.scalar(select(func.count(func.distinct(Pledge.user_id))).where(Pledge.status == "active"))
        assert len(rows) == len(keys)
        assert {row.idempotency_key: (row.user_id, row.amount_cents) for row in rows} == \
            {key: (user_ids[form.user], form.cents) for key, form in keys.items()}
        assert campaign.supporters == READERS == pledgers
        assert campaign.amount_cents == expected_amount == sum(row.amount_cents for row in rows)
    check = app.test_cli_runner().invoke(args=["support", "check"])
    assert check.exit_code == 0 and "all counters agree" in check.output, check.output
