"""`flask support …`: campaigns for editors, and the counters' check."""
from __future__ import annotations

import datetime as dt

import click
import stripe
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from webapp.clock import utcnow
from webapp.content.naming import SLUG_RE
from webapp.extensions import db
from webapp.support import campaigns, pledges, providers, reconcile
from webapp.support.models import AMOUNT, SUPPORTERS, Campaign
from webapp.support.money import format_money, parse_cents

support_cli = AppGroup("support", help="Supporter campaigns and pledges.")
campaign_cli = AppGroup("campaign", help="Create, change, end and list campaigns.")
support_cli.add_command(campaign_cli)


def _when(value: str | None) -> dt.datetime | None:
    """An ISO date or date-time, read as UTC; a date alone means its midnight."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date such as 2026-12-31 or 2026-12-31T18:00") from None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _goal(supporters: int | None, amount: str | None) -> tuple[str, int] | None:
    if supporters is not None and amount is not None:
        raise click.UsageError("Give --goal-supporters or --goal-amount, not both.")
    if supporters is not None:
        return SUPPORTERS, supporters
    if amount is not None:
        cents = parse_cents(amount)
        if not cents:
            raise click.BadParameter(f"{amount!r} is not an amount such as 500 or 1,250.50", param_hint="--goal-amount")
        return AMOUNT, cents
    return None


def _offset(kind: str, value: str | None) -> int | None:
    if value is None:
        return None
    number = parse_cents(value) if kind == AMOUNT else (int(value) if value.isdigit() else None)
    if number is None:
        raise click.BadParameter(f"{value!r} is not {'an amount' if kind == AMOUNT else 'a number of supporters'}",
                                 param_hint="--offset")
    return number


def _options(command):
    for option in reversed([
        click.option("--headline", help="The ask, e.g. 'Keep Plumb independent'."),
        click.option("--text", help="A sentence or two on why."),
        click.option("--goal-supporters", type=click.IntRange(1, 10_000_000), help="Goal as a number of supporters."),
        click.option("--goal-amount", help="Goal as an amount, e.g. 5000 or 5,000.00."),
        click.option("--currency", help="Three-letter code for an amount goal (default USD)."),
        click.option("--offset", help="Supporters or amount gathered elsewhere, counted toward the goal."),
        click.option("--starts", help="ISO date or date-time (UTC) it starts; default now."),
        click.option("--deadline", help="ISO date or date-time (UTC) it ends; 'none' for no deadline."),
    ]):
        command = option(command)
    return command


def _apply(campaign: Campaign, headline, text, goal_supporters, goal_amount, currency, offset, starts, deadline):
    if headline is not None:
        campaign.headline = " ".join(headline.split())[:120]
    if text is not None:
        campaign.text = " ".join(text.split())[:600]
    if goal := _goal(goal_supporters, goal_amount):
        if campaign.goal_kind not in (None, goal[0]) and campaign.goal_offset and offset is None:
            # The offset is counted in the goal's unit: supporters would silently become cents.
            raise click.UsageError("the goal changes from supporters to an amount or back: give --offset in the new unit")
        campaign.goal_kind, campaign.goal = goal
    if currency is not None:
        if not (len(currency) == 3 and currency.isalpha()):
            raise click.BadParameter("a three-letter code such as USD", param_hint="--currency")
        campaign.currency = currency.upper()
    if (number := _offset(campaign.goal_kind, offset)) is not None:
        campaign.goal_offset = number
    if starts is not None:
        campaign.starts_at = _when(starts)
    if deadline is not None:
        campaign.deadline = None if deadline == "none" else _when(deadline)


def _by_slug(slug: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign called {slug!r} (see `flask support campaign list`)")
    return campaign


@campaign_cli.command("create")
@click.argument("slug")
@_options
def create(slug: str, **options) -> None:
    """Create campaign SLUG; it needs a headline, a text and a goal."""
    if not SLUG_RE.match(slug):
        raise click.BadParameter("letters a-z, digits and hyphens only", param_hint="SLUG")
    if db.session.scalar(select(Campaign.id).where(Campaign.slug == slug)):
        raise click.ClickException(f"a campaign called {slug!r} exists already; change it with `update`")
    if not options["headline"] or not options["text"] or _goal(options["goal_supporters"], options["goal_amount"]) is None:
        raise click.UsageError("a new campaign needs --headline, --text and --goal-supporters or --goal-amount")
    campaign = Campaign(slug=slug, currency="USD", goal_offset=0, supporters=0, amount_cents=0)
    _apply(campaign, **options)
    db.session.add(campaign)
    db.session.commit()
    click.echo(_line(campaign))


@campaign_cli.command("update")
@click.argument("slug")
@_options
def update(slug: str, **options) -> None:
    """Change campaign SLUG: only the options given change."""
    campaign = _by_slug(slug)
    _apply(campaign, **options)
    db.session.commit()
    click.echo(_line(campaign))


@campaign_cli.command("end")
@click.argument("slug")
def end(slug: str) -> None:
    """End campaign SLUG now: it takes no more pledges."""
    campaign = _by_slug(slug)
    campaign.ended_at = utcnow()
    db.session.commit()
    click.echo(_line(campaign))


@campaign_cli.command("list")
def list_campaigns() -> None:
    """Every campaign, with its state; the one readers see is marked *."""
    shown = campaigns.shown(db.session)
    for campaign in db.session.scalars(select(Campaign).order_by(Campaign.id)):
        click.echo(("* " if shown is not None and campaign.id == shown.id else "  ") + _line(campaign))


def _line(campaign: Campaign) -> str:
    shown = campaigns.progress(campaign)
    deadline = f", deadline {campaign.deadline:%Y-%m-%d %H:%M} UTC" if campaign.deadline else ""
    amount = format_money(campaign.amount_cents, campaign.currency)
    return (f"{campaign.slug}: {shown.state}, {shown.counted_text} of {shown.goal_text} ({shown.percent}%){deadline}; "
            f"{campaign.supporters} supporters, {amount} pledged here")


@support_cli.command("check")
def check() -> None:
    """Prove that every counter equals what the pledge rows say (exit 1 if not)."""
    drifts = pledges.check(db.session)
    for drift in drifts:
        click.echo(f"{drift.campaign}: {drift.counter} is {drift.stored}, the pledges say {drift.from_rows}")
    if drifts:
        raise SystemExit(1)
    total = db.session.scalar(select(func.count()).select_from(Campaign)) or 0
    click.echo(f"all counters agree with the pledges ({total} campaign{'s' if total != 1 else ''})")


@support_cli.command("expire")
@click.option("--hours", type=click.IntRange(1, None), default=None,
              help="Age past which a pending pledge expires (default PENDING_PLEDGE_HOURS, 24).")
def expire(hours: int | None) -> None:
    """Pending pledges nobody paid for in time become expired (they never counted)."""
    hours = hours or current_app.config["PENDING_PLEDGE_HOURS"]
    expired = pledges.expire(db.engine, older_than=dt.timedelta(hours=hours))
    click.echo(f"{expired} pending pledge{'s' if expired != 1 else ''} expired (older than {hours} hours)")


@support_cli.command("reconcile")
@click.option("--since", required=True, help="ISO date (UTC): compare what the processor has from then on.")
@click.option("--fix", is_flag=True, help="Apply what the processor says (as its webhooks would have).")
def reconcile_command(since: str, fix: bool) -> None:
    """Compare Stripe's sessions, invoices, refunds, disputes and subscriptions with the
    pledges. Exit 0: they agree; 1: drift (left after --fix); 2: Stripe could not be asked."""
    if not current_app.config["STRIPE_SECRET_KEY"]:
        raise click.ClickException("STRIPE_SECRET_KEY is not set: there is no Stripe account to compare with")
    when = _when(since)
    if when is None:
        raise click.BadParameter("give a date such as 2027-01-01", param_hint="--since")
    stripe_checkout = providers.get(providers.STRIPE)

    def show(drifts: list[reconcile.Drift]) -> None:
        for drift in drifts:
            click.echo(f"{drift.pledge or '-'}: {drift.what}" + (f" -> {drift.fix_note}" if fix and drift.fixable
                                                                 else ""))
    try:
        drifts = reconcile.compare(db.engine, stripe_checkout, when)
        show(drifts)
        # A fix can uncover the next step (paid, then its subscription ended): a few passes.
        for _ in range(3 if fix else 0):
            if not any(drift.fixable for drift in drifts):
                break
            applied = reconcile.fix(db.engine, stripe_checkout, drifts)
            click.echo(f"{applied} fix{'es' if applied != 1 else ''} applied")
            drifts = reconcile.compare(db.engine, stripe_checkout, when)
            show(drifts)
    except (providers.ProviderUnavailable, stripe.StripeError) as failed:
        # Not "drift": nothing is known. Exit 2, so a cron job can tell the two apart.
        click.echo(f"Error: could not compare with Stripe: {failed}", err=True)
        raise SystemExit(2) from None
    if drifts:
        raise SystemExit(1)
    click.echo(f"the pledges agree with Stripe since {when:%Y-%m-%d %H:%M} UTC")


@support_cli.command("demo")
def demo() -> None:
    """Create the demo campaign unless there is one already."""
    if db.session.scalar(select(Campaign.id).limit(1)):
        click.echo("a campaign exists already; nothing to do")
        return
    campaign = Campaign(
        slug="keep-plumb-independent", headline="Keep Plumb independent",
        text="Plumb has no advertisers and no paywall. Readers like you pay for the research, "
             "so every answer can stay free, checked and open about its sources.",
        goal_kind=SUPPORTERS, goal=1000, currency="USD", goal_offset=0, supporters=0, amount_cents=0,
        deadline=utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=30))
    db.session.add(campaign)
    db.session.commit()
    click.echo(_line(campaign))
