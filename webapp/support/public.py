"""The shown campaign's figures as anyone may see them: what /embed/support draws and
/support/progress.json says. Only the campaign's own row: nothing here names a reader,
and nothing depends on who asks."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from webapp.support import campaigns
from webapp.support.models import AMOUNT, Campaign
from webapp.support.money import format_money


@dataclass(frozen=True)
class Figures:
    progress: campaigns.Progress
    supporters: int  # as shown: with the offset when the goal counts supporters
    raised_cents: int  # as shown: with the offset when the goal is an amount

    @property
    def campaign(self) -> Campaign:
        return self.progress.campaign

    @property
    def supporters_text(self) -> str:
        return f"{self.supporters:,} supporter{'s' if self.supporters != 1 else ''}"

    @property
    def raised_text(self) -> str:
        return format_money(self.raised_cents, self.campaign.currency)

    @property
    def ends_at(self) -> dt.datetime | None:
        """When pledges stop: the deadline, or the day an editor ended it before that."""
        c = self.campaign
        return min((t for t in (c.ended_at, c.deadline) if t is not None), default=None)

    def as_json(self, support_url: str) -> dict:
        """progress.json's body (docs/support.md lists the fields)."""
        c = self.campaign
        return {
            "title": c.headline,
            "state": self.progress.state,
            "goal_kind": c.goal_kind,
            "goal_supporters": None if c.goal_kind == AMOUNT else c.goal,
            "goal_cents": c.goal if c.goal_kind == AMOUNT else None,
            "supporters": self.supporters,
            "raised_cents": self.raised_cents,
            "currency": c.currency,
            "percent": self.progress.percent,
            "starts_at": _iso(c.starts_at),
            "ends_at": _iso(self.ends_at),
            "url": support_url,
        }

    def etag(self, representation: str) -> str:
        """Everything the embed or the JSON shows, hashed with which of them it is: the
        same ETag means the same bytes, so a poll is answered 304 without rendering."""
        p, c = self.progress, self.campaign
        parts = (representation, c.id, c.headline, c.goal_kind, c.goal, c.currency, p.state, p.counted, p.percent,
                 self.supporters, self.raised_cents, c.starts_at, self.ends_at, p.time_left, p.last_days)
        return hashlib.blake2s(repr(parts).encode(), digest_size=12).hexdigest()


def figures(campaign: Campaign, now: dt.datetime | None = None) -> Figures:
    progress = campaigns.progress(campaign, now)
    if campaign.goal_kind == AMOUNT:
        return Figures(progress, supporters=campaign.supporters, raised_cents=progress.counted)
    return Figures(progress, supporters=progress.counted, raised_cents=campaign.amount_cents)


def _iso(moment: dt.datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 with its zone: 2027-04-30T00:00:00Z."""
    return moment.replace(microsecond=0).isoformat() + "Z" if moment is not None else None
