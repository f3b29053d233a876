"""The supporter wall and the chart of supporters over time."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.pagination import Page, paginate_capped
from webapp.support.models import ACTIVE, SUPPORTERS, Campaign, Pledge


# Past this many names the wall's pages are not counted ("Page 3", not "Page 3 of 6,000"):
# counting 120,000 public pledges took 54 ms on every view of /support (issue 18).
WALL_COUNTED = 1000


def wall(session: Session, campaign: Campaign, number: int, size: int) -> Page | None:
    """Public names and messages, newest first; None past the last page."""
    on_wall = (select(Pledge)
               .where(Pledge.campaign_id == campaign.id, Pledge.status == ACTIVE, Pledge.public_name.is_not(None))
               .order_by(Pledge.created_at.desc(), Pledge.id.desc()))
    return paginate_capped(session, on_wall, number, size, WALL_COUNTED)


@dataclass(frozen=True)
class Chart:
    """Supporters by day, from the campaign's start: each current supporter counted from
    the day of their first active pledge. `points` are ready for an SVG of WIDTH x HEIGHT."""

    days: list[tuple[dt.date, int]]
    points: str
    maximum: int

    WIDTH = 600
    HEIGHT = 200


# Each process's charts, by what they are drawn from: the campaign's dates, its goal's
# offset and its supporters counter, and the day. Reading every active pledge took 250 ms
# with 200,000 of them, on every view of /support. A change that moves no counter (the
# earlier of someone's two pledges cancelled) shows within CHART_SECONDS.
CHART_SECONDS = 60.0
_charts: dict[tuple, tuple[float, Chart]] = {}


def _joined_by_day(session: Session, campaign: Campaign) -> dict[dt.date, int]:
    firsts = (select(func.min(Pledge.created_at).label("first")).where(
        Pledge.campaign_id == campaign.id, Pledge.status == ACTIVE).group_by(Pledge.user_id).subquery())
    day = func.date(firsts.c.first)
    joined: dict[dt.date, int] = {}
    for when, count in session.execute(select(day, func.count()).group_by(day)):
        joined[when if isinstance(when, dt.date) else dt.date.fromisoformat(when)] = count  # SQLite: text
    return joined


def chart(session: Session, campaign: Campaign, today: dt.date) -> Chart:
    """From the campaign's start (also before anyone joined) to today, or to its end once
    it is over; empty before it starts. One day alone is drawn as a flat line across."""
    key = (campaign.id, campaign.starts_at, campaign.created_at, campaign.ended_at, campaign.deadline,
           campaign.goal_kind, campaign.goal_offset, campaign.supporters, today)
    held = _charts.get(key)
    if held is not None and time.monotonic() - held[0] < CHART_SECONDS:
        return held[1]
    drawn = _draw(session, campaign, today)
    if len(_charts) > 16:
        _charts.clear()
    _charts[key] = (time.monotonic(), drawn)
    return drawn


def _draw(session: Session, campaign: Campaign, today: dt.date) -> Chart:
    joined = _joined_by_day(session, campaign)
    start = (campaign.starts_at or campaign.created_at).date()
    closed = campaign.ended_at or campaign.deadline
    end = min(today, closed.date()) if closed is not None else today
    if joined:
        start, end = min(start, min(joined)), max(end, max(joined))
    if start > end:
        return Chart([], "", 0)
    total = campaign.goal_offset if campaign.goal_kind == SUPPORTERS else 0
    days = []
    for n in range((end - start).days + 1):
        day = start + dt.timedelta(days=n)
        total += joined.get(day, 0)
        days.append((day, total))
    top = max(total, 1)
    if len(days) == 1:
        y = Chart.HEIGHT - total * Chart.HEIGHT / top
        return Chart(days, f"0.0,{y:.1f} {Chart.WIDTH:.1f},{y:.1f}", top)
    span = len(days) - 1
    points = " ".join(f"{i * Chart.WIDTH / span:.1f},{Chart.HEIGHT - count * Chart.HEIGHT / top:.1f}"
                      for i, (_, count) in enumerate(days))
    return Chart(days, points, top)
