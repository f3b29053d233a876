"""Synthetic readers for benchmarks, beside `webapp/content/synth.py`'s questions:
confirmed accounts (one password for all), recorded pledges by them to the campaign
shown (its counters moved with them, as a real pledge moves them), and a span of daily
reader signals (views, follows, recentres, requests). `flask demo synth --accounts N
--pledges N --signals-days N`.

Its own feature above accounts, support and graph (it writes their tables), so that
content, below them, imports none of them."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from webapp.accounts import passwords
from webapp.accounts.models import User
from webapp.accounts.service import new_session_token
from webapp.answers.models import ANSWERED, UNANSWERED, Question, RelatedLink
from webapp.clock import utcnow
from webapp.content.synth import BATCH, SYLLABLES, Writer, next_id, tables_of, writer_for, zipf_weights
from webapp.database import advance_sequences
from webapp.graph import demand
from webapp.graph.models import AnswerRequest, DailySignal
from webapp.graph.requests import requester_key
from webapp.graph.signals import KINDS
from webapp.support import campaigns
from webapp.support.money import format_money
from webapp.support.models import ACTIVE, MONTHLY, ONCE, RECORD, SUPPORTERS, Campaign, CampaignSupporter, Pledge

# Every synthetic account's password (a benchmark's accounts, never real people's).
SYNTH_PASSWORD = "synth-plumb-line-walrus-7"
SYNTH_EMAIL = "synth-user-{}@example.org"
CONFIRMED_WITHIN = dt.timedelta(minutes=10)  # a synthetic account's link is followed this soon


class SynthError(Exception):
    """What was asked for cannot be made in this database; nothing was written."""


def refusal(session: Session, *, pledges: int = 0, accounts: int = 0, signals_days: int = 0,
            today: dt.date | None = None) -> str | None:
    """Why what was asked for cannot be made here (checked before anything is written), or None."""
    if pledges and not accounts and not synth_accounts(session):
        return "pledges are made by synthetic accounts, and there are none: add --accounts"
    if pledges and (campaign := campaigns.shown(session)) is not None and campaigns.state(campaign, utcnow()) == campaigns.UPCOMING:
        return f"campaign {campaign.slug!r} has not started: no pledge could be made to it yet"
    if signals_days:
        first_day, last_day = signal_days(signals_days, today)
        if session.scalar(select(DailySignal.id).where(DailySignal.day >= first_day, DailySignal.day <= last_day).limit(1)):
            return f"there are daily signals between {first_day} and {last_day} already (the new ones would collide)"
    return None


def make_accounts(session: Session, count: int, seed: int = 1, progress: Callable[[int], None] | None = None,
                  now: dt.datetime | None = None, writer: Writer | None = None) -> int:
    """`count` confirmed accounts, synth-user-N@example.org (N their id), made over the two
    years before `now`, all with SYNTH_PASSWORD."""
    writer = writer or writer_for(session)
    rng = random.Random(f"{seed}:accounts")  # a stream of its own: the questions stay the same
    now = now or utcnow()
    # One hash for every account: scrypt is slow on purpose (~0.1 s a hash here), so hashing
    # 50,000 passwords would take well over an hour. The salt differs from run to run.
    password_hash = passwords.hashed(SYNTH_PASSWORD)
    first = next_id(session, User)
    ages = sorted((rng.randint(600, 730 * 86400) for _ in range(count)), reverse=True)  # oldest first
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, count)):
            uid = first + n
            created = now - dt.timedelta(seconds=ages[n])
            rows.append(dict(
                id=uid, email=SYNTH_EMAIL.format(uid), display_name=_person(rng), password_hash=password_hash,
                # Random, not from the seed: with the id it makes the login cookie (accounts/models.py).
                session_token=new_session_token(), is_editor=False, created_at=created,
                confirmed_at=created + dt.timedelta(seconds=rng.randint(30, CONFIRMED_WITHIN.seconds)), deleted_at=None,
            ))
        writer.write(User.__table__, rows)
        writer.commit()
        if progress:
            progress(len(rows))
    advance_sequences(session, tables_of(User))
    return count


def _person(rng: random.Random) -> str:
    def name() -> str:
        return "".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3)))).capitalize()
    return f"{name()} {name()}"


def synth_accounts(session: Session) -> list[tuple[int, dt.datetime, str]]:
    """(id, created_at, display_name) of the synthetic accounts that can pledge, by id."""
    return list(session.execute(
        select(User.id, User.created_at, User.display_name)
        .where(User.email.like(SYNTH_EMAIL.format("%")), User.confirmed_at.is_not(None), User.deleted_at.is_(None))
        .order_by(User.id)))


# --- pledges ----------------------------------------------------------------------------------

# Amounts as readers choose them: mostly the form's presets ($5, $10, $25), sometimes their own.
AMOUNTS = ((1000, 38), (500, 24), (2500, 18), (300, 3), (1500, 4), (2000, 3), (5000, 5), (10000, 3), (25000, 1),
           (50000, 0.5), (100000, 0.2))
MESSAGES = ("Keep it up!", "Thank you for checking things properly.", "For the sources.", "Worth every cent.",
            "My kids use this for homework.", "Happy to help.", "Independent research matters.")


@dataclass
class PledgesMade:
    campaign: str
    currency: str
    pledges: int = 0
    cents: int = 0
    new_supporters: int = 0
    supporters: int = 0  # the campaign's counters after them
    amount_cents: int = 0

    def line(self) -> str:
        return (f"made {self.pledges} pledges ({format_money(self.cents, self.currency)}, {self.new_supporters} new "
                f"supporters) to {self.campaign}: now {self.supporters} supporters, "
                f"{format_money(self.amount_cents, self.currency)} pledged")


def pledge_campaign(session: Session, now: dt.datetime | None = None) -> Campaign:
    """The campaign readers see; if there is none, the one `flask support demo` makes,
    started 60 days ago so that the pledges can spread over its weeks."""
    now = now or utcnow()
    campaign = campaigns.shown(session, now)
    if campaign is not None:
        return campaign
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    campaign = Campaign(
        slug="keep-plumb-independent", headline="Keep Plumb independent",
        text="Plumb has no advertisers and no paywall. Readers like you pay for the research, "
             "so every answer can stay free, checked and open about its sources.",
        goal_kind=SUPPORTERS, goal=1000, currency="USD", goal_offset=0, supporters=0, amount_cents=0,
        starts_at=midnight - dt.timedelta(days=60), created_at=midnight - dt.timedelta(days=60),
        deadline=midnight + dt.timedelta(days=30))
    session.add(campaign)
    session.commit()
    return campaign


def make_pledges(session: Session, count: int, seed: int = 1, progress: Callable[[int], None] | None = None,
                 now: dt.datetime | None = None, writer: Writer | None = None) -> PledgesMade:
    """`count` recorded, active pledges by the synthetic accounts to the campaign shown
    (made if there is none), each at a time within the campaign's span, as `pledges.pledge`
    records them with the provider that collects nothing itself (`record`). The campaign's
    counters and the accounts' supporter rows move in the pledges' own transaction, so
    `flask support check` finds them equal to the rows."""
    writer = writer or writer_for(session)
    rng = random.Random(f"{seed}:pledges")
    now = now or utcnow()
    accounts = synth_accounts(session)
    if not accounts:
        raise SynthError("pledges need synthetic accounts: add --accounts")
    campaign = pledge_campaign(session, now)
    campaign_id, currency, made = campaign.id, campaign.currency, PledgesMade(campaign.slug, campaign.currency)
    opens = campaign.starts_at or campaign.created_at
    closes = min(t for t in (now, campaign.deadline, campaign.ended_at) if t is not None)
    if closes < opens:
        raise SynthError(f"campaign {campaign.slug!r} has not started: no pledge could be made to it yet")
    # An account pledges once confirmed (within minutes of being made: make_accounts).
    accounts = [(uid, made_at + CONFIRMED_WITHIN, name) for uid, made_at, name in accounts
                if made_at + CONFIRMED_WITHIN <= closes]
    if not accounts:
        raise SynthError(f"no synthetic account existed while campaign {campaign.slug!r} took pledges")
    # About 60% of the accounts pledge, some more often than others (a mild Zipf-like skew).
    supporters = rng.sample(accounts, max(1, len(accounts) * 3 // 5))
    weights = zipf_weights(len(supporters), 0.2)
    amounts, amount_weights = zip(*AMOUNTS, strict=True)
    planned = []
    for _ in range(count):
        uid, confirmed, name = rng.choices(supporters, cum_weights=weights)[0]
        earliest = max(opens, confirmed)
        span = (closes - earliest).total_seconds()
        planned.append((earliest + dt.timedelta(seconds=rng.random() * span), uid,
                        rng.choices(amounts, amount_weights)[0], MONTHLY if rng.random() < 0.25 else ONCE,
                        name if rng.random() < 0.6 else None, rng.choice(MESSAGES) if rng.random() < 0.15 else None))
    planned.sort(key=itemgetter(0))  # ids in the order the pledges were made
    first = next_id(session, Pledge)
    # One transaction for the pledges and the counters they move, as `pledges.pledge` keeps
    # them: stopped half-way, nothing was made.
    for start in range(0, count, BATCH):
        rows = []
        for n, (when, uid, cents, frequency, public_name, message) in enumerate(planned[start:start + BATCH], start=start):
            pid = first + n
            key = _key(f"synth-pledge:{seed}:{pid}")
            rows.append(dict(
                id=pid, idempotency_key=key, campaign_id=campaign_id, user_id=uid, amount_cents=cents, currency=currency,
                frequency=frequency, public_name=public_name, message=message, status=ACTIVE, provider=RECORD,
                provider_ref=f"record:{key}", counted_cents=cents, payment_ref=None, subscription_ref=None,
                created_at=when, cancelled_at=None))
        writer.write(Pledge.__table__, rows)
        made.pledges += len(rows)
        made.cents += sum(row["counted_cents"] for row in rows)
        if progress:
            progress(len(rows))
    made.new_supporters = _move_counters(session, writer, campaign_id, Counter(uid for _, uid, *_ in planned), made.cents)
    writer.commit()
    advance_sequences(session, tables_of(Pledge))
    made.supporters, made.amount_cents = session.execute(
        select(Campaign.supporters, Campaign.amount_cents).where(Campaign.id == campaign_id)).one()
    return made


def _key(text: str) -> str:
    """A pledge's reference: 32 URL-safe characters, as `pledges.new_key()` makes, but from the seed."""
    return base64.urlsafe_b64encode(hashlib.blake2b(text.encode(), digest_size=24).digest()).decode()


def _move_counters(session: Session, writer: Writer, campaign_id: int, per_user: Counter, cents: int) -> int:
    """Move the counters for the pledges just written (`per_user`: how many each account
    made): each account's active pledges, the campaign's supporters (the accounts that had
    none before) and amount. Returns how many supporters are new."""
    table = CampaignSupporter.__table__
    had = dict(session.execute(select(table.c.user_id, table.c.active_pledges)
                               .where(table.c.campaign_id == campaign_id)).all())
    writer.write(table, [dict(campaign_id=campaign_id, user_id=uid, active_pledges=n)
                         for uid, n in sorted(per_user.items()) if uid not in had])
    again = [dict(uid=uid, n=n) for uid, n in sorted(per_user.items()) if uid in had]
    if again:
        session.execute(update(table).where(table.c.campaign_id == campaign_id, table.c.user_id == bindparam("uid"))
                        .values(active_pledges=table.c.active_pledges + bindparam("n")), again)
    new = sum(1 for uid in per_user if not had.get(uid))
    campaign = Campaign.__table__
    session.execute(update(campaign).where(campaign.c.id == campaign_id).values(
        supporters=campaign.c.supporters + new, amount_cents=campaign.c.amount_cents + cents))
    return new


# --- daily signals ----------------------------------------------------------------------------

# Reader actions a day at full size (fewer on a small corpus: at most a few per question), and
# the most rows a day each kind may make (a day's rows are its distinct questions, or pairs),
# so that a year is under 2M rows however large the corpus.
VIEWS_A_DAY = 4000
ROWS_A_DAY = {"view": 3000, "follow": 600, "recentre": 200, "request": 200}
FOLLOWED_FROM = 20_000  # follows start from the most read answers, along their related links


@dataclass
class SignalsMade:
    days: int = 0
    rows: Counter = field(default_factory=Counter)  # rows by kind
    counts: Counter = field(default_factory=Counter)  # actions by kind (the rows' counts summed)
    requests: int = 0  # questions readers asked an answer for (their AnswerRequest rows: counts["request"])

    def line(self) -> str:
        kinds = ", ".join(f"{kind} {self.rows[kind]} ({self.counts[kind]} counted)" for kind in KINDS)
        return (f"made {self.rows.total()} daily signal rows over {self.days} days: {kinds}; "
                f"{self.counts['request']} answer requests for {self.requests} questions")


def signal_days(days: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of the last `days` days, today included (the day signals.record counts in)."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=days - 1), today


def make_signals(session: Session, days: int, seed: int = 1, progress: Callable[[int], None] | None = None,
                 today: dt.date | None = None, writer: Writer | None = None) -> SignalsMade:
    """Daily signals for the last `days` days as readers would leave them: views of answered
    questions, a few answers read much more than the rest (Zipf-like, the same ones day
    after day); follows from the most read answers along their related links; recentres
    in the explorer; requests for unanswered questions only. More on weekdays, and growing
    over the span. Refused if the span has signals already (they would collide)."""
    writer = writer or writer_for(session)
    rng = random.Random(f"{seed}:signals")
    first_day, last_day = signal_days(days, today)
    if session.scalar(select(DailySignal.id).where(DailySignal.day >= first_day, DailySignal.day <= last_day).limit(1)):
        raise SynthError(f"there are daily signals between {first_day} and {last_day} already")
    answered = list(session.scalars(select(Question.id).where(Question.status == ANSWERED).order_by(Question.id)))
    unanswered = list(session.scalars(select(Question.id).where(Question.status == UNANSWERED).order_by(Question.id)))
    rng.shuffle(answered)  # by popularity, most read first
    rng.shuffle(unanswered)  # by demand
    read, asked = zipf_weights(len(answered)), zipf_weights(len(unanswered))
    paths = _follow_paths(session, answered[:FOLLOWED_FROM])
    followed = zipf_weights(len(paths))
    views_a_day = min(VIEWS_A_DAY, 4 * len(answered))
    made = SignalsMade()
    signal_id, rows = next_id(session, DailySignal), []
    # Each counted request is a reader's AnswerRequest too (one per reader and question).
    request_id, requests, asked_by = next_id(session, AnswerRequest), [], Counter()
    for n in range(days):
        day = first_day + dt.timedelta(days=n)
        busy = (0.75 + 0.25 * n / max(1, days - 1)) * (0.8 if day.weekday() >= 5 else 1.0) * rng.uniform(0.9, 1.1)
        views = int(views_a_day * busy)
        actions = {
            "view": Counter((q, 0) for q in rng.choices(answered, cum_weights=read, k=views)) if answered else Counter(),
            "follow": Counter(_follows(rng, paths, followed, views // 8)) if paths else Counter(),
            "recentre": Counter((q, 0) for q in rng.choices(answered, cum_weights=read, k=views // 40))
            if answered else Counter(),
            "request": Counter((q, 0) for q in rng.choices(unanswered, cum_weights=asked, k=max(1, views // 50)))
            if unanswered else Counter(),
        }
        for kind, counted in actions.items():
            # The most counted pairs, up to the day's bound (ties: first drawn first).
            for (question_id, from_id), count in sorted(counted.most_common(ROWS_A_DAY[kind])):
                rows.append(dict(id=signal_id, day=day, kind=kind, question_id=question_id, from_id=from_id, count=count))
                signal_id += 1
                for _ in range(count if kind == "request" else 0):
                    asked_by[question_id] += 1
                    at = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86_400))
                    requests.append(dict(id=request_id, question_id=question_id, created_at=at, requester=requester_key(
                        f"synth:{seed}:{first_day}:{question_id}:{asked_by[question_id]}")))
                    request_id += 1
                made.rows[kind] += 1
                made.counts[kind] += count
        made.days += 1
        if len(rows) >= 20 * BATCH or n == days - 1:
            writer.write(DailySignal.__table__, rows)
            writer.write(AnswerRequest.__table__, requests)
            writer.commit()
            rows, requests = [], []
        if progress:
            progress(1)
    advance_sequences(session, tables_of(DailySignal, AnswerRequest))
    demand.recount(session)  # the requests went in beside the ORM
    session.commit()
    made.requests = len(asked_by)
    return made


def _follow_paths(session: Session, sources: list[int]) -> list[tuple[int, list[int], list[float]]]:
    """(answer, the questions its related links lead to, cumulative weights: the first link
    followed most) for those of `sources` that have links, in the order of `sources`."""
    leads: dict[int, list[int]] = {}
    for start in range(0, len(sources), BATCH):
        chunk = sources[start:start + BATCH]
        for from_id, to_id in session.execute(select(RelatedLink.from_id, RelatedLink.to_id)
                                              .where(RelatedLink.from_id.in_(chunk))
                                              .order_by(RelatedLink.from_id, RelatedLink.position, RelatedLink.id)):
            leads.setdefault(from_id, []).append(to_id)
    return [(q, leads[q], zipf_weights(len(leads[q]))) for q in sources if q in leads]


def _follows(rng: random.Random, paths, weights: list[float], k: int) -> Iterator[tuple[int, int]]:
    """`k` follows as (the question read next, the answer it was read from)."""
    for from_id, targets, target_weights in rng.choices(paths, cum_weights=weights, k=k):
        yield rng.choices(targets, cum_weights=target_weights)[0], from_id
