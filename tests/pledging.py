"""A campaign for tests, and pledging through the widget's form as a browser does."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.pages import HTMX, field, text_of
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.support.models import Campaign, Pledge


def make_campaign(app, **fields) -> int:
    """A running campaign (goal 1,000 supporters, 30 days left) unless `fields` say otherwise."""
    values = dict(slug="keep-plumb-independent", headline="Keep Plumb independent",
                  text="Readers pay for the research, so every answer stays free.", goal_kind="supporters",
                  goal=1000, currency="USD", goal_offset=0, supporters=0, amount_cents=0,
                  deadline=utcnow() + dt.timedelta(days=30, minutes=5))
    values.update(fields)
    with app.app_context():
        campaign = Campaign(**values)
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


def widget(client, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get("/support/widget" + (f"?{query}" if query else ""), headers=HTMX)


def form_of(client) -> dict[str, str]:
    """The csrf token and the idempotency key of the pledge form the widget renders (asked
    for in full: a supporter's widget otherwise thanks instead of showing the form)."""
    text = text_of(widget(client, full=1))
    assert 'action="/support/pledge"' in text, "the widget shows no pledge form"
    return {"csrf_token": field(text, "csrf_token"), "key": field(text, "key")}


def post_pledge(client, amount="1000", frequency="once", htmx=True, form=None, **fields):
    """Submit the widget's pledge form. Fields set to None are left out."""
    data = {**(form or form_of(client)), "amount": amount, "frequency": frequency, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/support/pledge", data=data, headers=HTMX if htmx else {})


def counters(app) -> tuple[int, int]:
    """(supporters, amount in cents) of the newest campaign, as stored."""
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
        return campaign.supporters, campaign.amount_cents


def pledge_rows(app) -> list[Pledge]:
    with app.app_context():
        rows = db.session.scalars(select(Pledge).order_by(Pledge.id)).all()
        db.session.expunge_all()
        return rows
