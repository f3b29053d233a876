"""The supporter wall and the chart of supporters over time."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.support.models import ACTIVE, Campaign, Pledge

WALL_PAGE = 20


def _on_wall(campaign: Campaign):
    return (Pledge.campaign_id == campaign.id, Pledge.status == ACTIVE, Pledge.public_name.is_not(None))


def wall(session: Session, campaign: Campaign, page: int) -> tuple[list[Pledge], int]:
    """Public names and messages, newest first: one page, and the number of pages."""
    total = session.scalar(select(func.count()).where(*_on_wall(campaign))) or 0
    rows = session.scalars(select(Pledge).where(*_on_wall(campaign))
                           .order_by(Pledge.created_at.desc(), Pledge.id.desc())
                           .limit(WALL_PAGE).offset((page - 1) * WALL_PAGE)).all()
    return list(rows), max(1, -(-total // WALL_PAGE))


@dataclass(frozen=True)
class Chart:
    """Supporters by day: each current supporter counted from the day of their first
    active pledge. Coordinates are ready for an SVG of WIDTH x HEIGHT."""

    days: list[tuple[dt.date, int]]
    points: str
    maximum: int

    WIDTH = 600
    HEIGHT = 200


def chart(session: Session, campaign: Campaign, today: dt.date) -> Chart:
    firsts = session.scalars(select(func.min(Pledge.created_at)).where(
        Pledge.campaign_id == campaign.id, Pledge.status == ACTIVE).group_by(Pledge.user_id)).all()
    if not firsts:
        return Chart([], "", 0)
    joined: dict[dt.date, int] = {}
    for first in firsts:
        joined[first.date()] = joined.get(first.date(), 0) + 1
    start, end = min(joined), max(today, max(joined))
    days, total = [], campaign.goal_offset if campaign.goal_kind == "supporters" else 0
    for n in range((end - start).days + 1):
        day = start + dt.timedelta(days=n)
        total += joined.get(day, 0)
        days.append((day, total))
    top = max(total, 1)
    span = max(len(days) - 1, 1)
    points = " ".join(f"{i * Chart.WIDTH / span:.1f},{Chart.HEIGHT - count * Chart.HEIGHT / top:.1f}"
                      for i, (_, count) in enumerate(days))
    return Chart(days, points, top)
