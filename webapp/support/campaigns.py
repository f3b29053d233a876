"""Which campaign is shown, what state it is in, and how far along it is."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from webapp.clock import utcnow
from webapp.support.models import AMOUNT, Campaign
from webapp.support.money import format_money

UPCOMING, RUNNING, REACHED, ENDED = "upcoming", "running", "reached", "ended"
LAST_DAYS = dt.timedelta(days=7)


def counted(campaign: Campaign) -> int:
    """Progress in the goal's unit: supporters, or cents; the offset included."""
    own = campaign.amount_cents if campaign.goal_kind == AMOUNT else campaign.supporters
    return own + campaign.goal_offset


def state(campaign: Campaign, now: dt.datetime) -> str:
    if campaign.ended_at is not None or (campaign.deadline is not None and campaign.deadline <= now):
        return ENDED
    if campaign.starts_at is not None and campaign.starts_at > now:
        return UPCOMING
    return REACHED if counted(campaign) >= campaign.goal else RUNNING


def accepting(campaign: Campaign, now: dt.datetime) -> bool:
    """Pledges are taken while running, and still after the goal is reached."""
    return state(campaign, now) in (RUNNING, REACHED)


def shown(session: Session, now: dt.datetime | None = None) -> Campaign | None:
    """The one campaign readers see: the running one that started last; else the next
    to start; else the one that ended last. Campaigns are few, so all are read."""
    now = now or utcnow()
    campaigns = session.scalars(select(Campaign)).all()
    by_state: dict[str, list[Campaign]] = {}
    for campaign in campaigns:
        by_state.setdefault(state(campaign, now), []).append(campaign)
    live = by_state.get(RUNNING, []) + by_state.get(REACHED, [])
    if live:
        return max(live, key=lambda c: (c.starts_at or c.created_at, c.id))
    if upcoming := by_state.get(UPCOMING):
        return min(upcoming, key=lambda c: (c.starts_at, c.id))
    if ended := by_state.get(ENDED):
        return max(ended, key=lambda c: (c.ended_at or c.deadline or c.created_at, c.id))
    return None


def time_left(deadline: dt.datetime | None, now: dt.datetime) -> str | None:
    if deadline is None or deadline <= now:
        return None
    left = deadline - now
    if left >= dt.timedelta(days=2):
        return f"{left.days} days"
    hours = int(left.total_seconds() // 3600)
    if hours >= 2:
        return f"{hours} hours"
    return "less than 2 hours"


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    state: str
    counted: int
    percent: int  # may pass 100 once the goal is reached
    goal_text: str  # "1,000 supporters" / "$500"
    counted_text: str  # "412" / "$212.50": read as "412 of 1,000 supporters"
    time_left: str | None
    last_days: bool

    @property
    def bar_value(self) -> int:
        return min(self.counted, self.campaign.goal)

    @property
    def so_far(self) -> str:
        """The count in words, inviting the next supporter: "1 supporter so far — be the next"."""
        c, n = self.campaign, self.counted
        if self.state == ENDED:
            return f"{_in_unit(c, n)} in all — thank you" if n else "This campaign has ended"
        if c.goal_kind == AMOUNT:
            return f"{format_money(n, c.currency)} pledged so far — add yours" if n else "Nothing pledged yet — be the first"
        return f"{_in_unit(c, n)} so far — be the next" if n else "No supporters yet — be the first"

    @property
    def etag(self) -> str:
        """Everything the progress display shows, hashed: an unchanged ETag means an
        unchanged display, so a poll can be answered 304 without rendering."""
        c = self.campaign
        parts = (c.id, c.headline, c.goal_kind, c.goal, c.currency, self.counted, self.state, self.time_left)
        return hashlib.blake2s(repr(parts).encode(), digest_size=12).hexdigest()


def _in_unit(campaign: Campaign, n: int) -> str:
    if campaign.goal_kind == AMOUNT:
        return format_money(n, campaign.currency)
    return f"{n:,} supporter{'s' if n != 1 else ''}"


def counted_now(campaign: Campaign, supporters: int, amount_cents: int) -> None:
    """The counters a write just returned, put into the loaded campaign as if read from
    the database (not as a change to save): the page shows them without reading again."""
    set_committed_value(campaign, "supporters", supporters)
    set_committed_value(campaign, "amount_cents", amount_cents)


def progress(campaign: Campaign, now: dt.datetime | None = None) -> Progress:
    now = now or utcnow()
    n = counted(campaign)
    current = state(campaign, now)
    left = time_left(campaign.deadline, now) if current != ENDED else None
    return Progress(
        campaign=campaign, state=current, counted=n,
        percent=n * 100 // campaign.goal, goal_text=_in_unit(campaign, campaign.goal), counted_text=_in_unit(campaign, n) if campaign.goal_kind == AMOUNT else f"{n:,}",
        time_left=left, last_days=left is not None and campaign.deadline - now < LAST_DAYS,
    )
