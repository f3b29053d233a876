"""Campaigns, the pledges made to them, and who counts as a supporter."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.support.money import MAX_CENTS, MIN_CENTS

SUPPORTERS, AMOUNT = "supporters", "amount"
ONCE, MONTHLY = "once", "monthly"
ACTIVE, CANCELLED = "active", "cancelled"
# A processor's pledge waits, counted nowhere, until the processor says it is paid; it
# expires when nobody pays within a day. Refunded and disputed pledges were paid and
# then taken back out of every count.
PENDING, EXPIRED, REFUNDED, DISPUTED = "pending", "expired", "refunded", "disputed"
STATUSES = (PENDING, ACTIVE, CANCELLED, EXPIRED, REFUNDED, DISPUTED)
# The payment providers a pledge may name (providers.py uses these too).
RECORD, STRIPE = "record", "stripe"


class Campaign(db.Model):
    """A public goal. `supporters` and `amount_cents` are counters moved in the same
    transaction as the pledge rows they summarise (`flask support check` proves it);
    `offset` is what was gathered elsewhere, in the goal's unit, added for display."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("goal_kind in ('supporters', 'amount')", name="goal_kind"),
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("goal_offset >= 0", name="offset_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    headline: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(600))
    goal_kind: Mapped[str] = mapped_column(String(10))
    goal: Mapped[int] = mapped_column(BigInteger)  # supporters, or cents
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    goal_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC; none: from creation
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # ended early by an editor
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Pledge(db.Model):
    """A recorded commitment to give. No card data: collecting the money is the
    payment provider's job (see providers.py)."""

    __tablename__ = "pledge"
    __table_args__ = (
        CheckConstraint(f"amount_cents between {MIN_CENTS} and {MAX_CENTS}", name="amount_range"),
        CheckConstraint("frequency in ('once', 'monthly')", name="frequency"),
        CheckConstraint("status in ('pending', 'active', 'cancelled', 'expired', 'refunded', 'disputed')",
                        name="status"),
        CheckConstraint("counted_cents >= 0", name="counted_not_negative"),
        Index("ix_pledge_wall", "campaign_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Made when the form was rendered: the same key twice is the same pledge.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    frequency: Mapped[str] = mapped_column(String(8))
    public_name: Mapped[str | None] = mapped_column(String(80))  # none: anonymous
    message: Mapped[str | None] = mapped_column(String(280))  # plain text, escaped when shown
    status: Mapped[str] = mapped_column(String(10), default=ACTIVE)
    provider: Mapped[str] = mapped_column(String(20))
    # The processor's id for the pledge: a Checkout Session's id with Stripe.
    provider_ref: Mapped[str] = mapped_column(String(120), index=True)
    # What the pledge adds to `campaign.amount_cents`. A recorded pledge: its amount while
    # active, nothing once cancelled (nothing was collected). Through a processor: the money
    # received and kept, whatever its status (the sum of its payments' counted minus taken,
    # see PledgePayment); pending and expired pledges count nothing.
    counted_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Where the processor's later events about it lead back: a one-time payment's
    # payment intent, a monthly pledge's subscription.
    payment_ref: Mapped[str | None] = mapped_column(String(120), index=True)
    subscription_ref: Mapped[str | None] = mapped_column(String(120), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # or ended otherwise

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def cancellable(self) -> bool:
        """Whether "Cancel this pledge" is offered: a recorded pledge, or a paid monthly one
        (its subscription ends); a paid one-time payment has nothing left to stop."""
        return self.status == ACTIVE and (self.provider == RECORD or self.frequency == MONTHLY)

    @property
    def reference(self) -> str:
        """What URLs and pages call this pledge: its form's random key, not its number,
        so that no address tells how many pledges there are."""
        return self.idempotency_key


class CampaignSupporter(db.Model):
    """How many active pledges an account has in a campaign: a supporter is counted
    when this goes from 0 to 1 and uncounted when it goes back to 0."""

    __tablename__ = "campaign_supporter"
    __table_args__ = (CheckConstraint("active_pledges >= 0", name="active_not_negative"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    active_pledges: Mapped[int] = mapped_column(Integer, default=0)


class PaymentEvent(db.Model):
    """A processor's webhook event, kept once: its row goes in with the event's effect, in
    one transaction, so a replayed event finds it and changes nothing."""

    __tablename__ = "payment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledge.id"), index=True)  # none: not ours
    # What it did: "activated", "ignored: …", and so on, for an operator reading the table.
    outcome: Mapped[str] = mapped_column(String(200))
    # Written by 0010's payments only: later months paid before the pledge was active now
    # wait on their PledgePayment row instead.
    held_cents: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# A dispute's states as Plumb keeps them: open until Stripe closes it, won (the money came
# back) or lost (it stays out).
DISPUTE_OPEN, DISPUTE_WON, DISPUTE_LOST = "open", "won", "lost"


class PledgePayment(db.Model):
    """One payment a processor took for a pledge (its first, each later month) and what of it
    was given back. The pledge's `counted_cents` is the sum of (counted - taken) over them.

    A row may be made by the payment's own event (checkout completed, invoice paid) or
    first by a refund or dispute that arrived before it (then `counted_cents` is NULL until
    the payment's own event comes): events in any order end in the same rows."""

    __tablename__ = "pledge_payment"
    __table_args__ = (
        CheckConstraint("refunded_cents >= 0 and disputed_cents >= 0 and taken_cents >= 0", name="not_negative"),
        CheckConstraint("dispute_status is null or dispute_status in ('open', 'won', 'lost')", name="dispute_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id"), index=True)
    # How Stripe's events name it: an invoice (a month of a subscription) and the payment
    # intent its charges, refunds and disputes name. Either may be learnt first.
    invoice_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    payment_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    # What the payment adds to the pledge's count: what it paid, or 0 when a later month was
    # paid outside the campaign's window. NULL: its own event has not arrived yet.
    counted_cents: Mapped[int | None] = mapped_column(BigInteger)
    # The most Stripe has said was refunded of it (a charge's amount_refunded only grows,
    # so the largest seen is the latest, whatever order the events came in).
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dispute_status: Mapped[str | None] = mapped_column(String(10))
    disputed_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # What was taken back out of the pledge's count for it: min(counted, refunded + an open
    # or lost dispute's amount).
    taken_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
