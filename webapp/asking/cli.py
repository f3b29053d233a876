"""`flask asks`: the review queue of readers' questions from the command line (the
same decisions as /desk/asks, for an editor at a terminal or a script)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.asking import service
from webapp.asking.models import PENDING, Ask
from webapp.extensions import db

asks_cli = AppGroup("asks", help="Readers' questions waiting for review.")


def _ask(ask_id: int) -> Ask:
    found = db.session.get(Ask, ask_id)
    if found is None:
        raise click.ClickException(f"there is no question {ask_id}")
    return found


def _decided(action) -> None:
    try:
        action()
    except service.DecisionRefused as refused:
        db.session.rollback()
        raise click.ClickException(" ".join(refused.errors.values())) from None
    db.session.commit()


@asks_cli.command("list")
@click.option("--state", type=click.Choice(service.FILTERS), default=PENDING, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(state: str, limit: int) -> None:
    """The questions in STATE, pending ones oldest first: id, date, state, text."""
    page = service.queue(db.session, state, 1, limit)
    if page is None or not page.items:
        click.echo(f"no {'' if state == 'all' else state + ' '}questions")
        return
    for ask in page.items:
        extra = f"  [word list: {ask.flagged}]" if ask.flagged else ""
        into = f"  -> /q/{ask.question.slug}" if ask.question else ""
        click.echo(f"{ask.id}\t{ask.created_at:%Y-%m-%d}\t{ask.state}\t{ask.text}{into}{extra}")
    if page.total > len(page.items):
        click.echo(f"… and {page.total - len(page.items)} more (--limit)")


@asks_cli.command("open")
@click.argument("ask_id", type=int)
@click.option("--category", help="A category's slug (default: the guess shown by list); '' for none.")
@click.option("--slug", help="The question's web address name (default: made from its text).")
def open_command(ask_id: int, category: str | None, slug: str | None) -> None:
    """Put question ASK_ID on the site, not answered yet, and count its asker's request."""
    ask = _ask(ask_id)
    holder = {}
    _decided(lambda: holder.setdefault("q", service.open_ask(db.session, ask, editor_id=None,
                                                              category_slug=category, slug=slug)))
    click.echo(f"{ask.state}: /q/{holder['q'].slug}")


@asks_cli.command("merge")
@click.argument("ask_id", type=int)
@click.argument("into")
def merge_command(ask_id: int, into: str) -> None:
    """Question ASK_ID asks what the question at /q/INTO asks: it joins that one."""
    ask = _ask(ask_id)
    _decided(lambda: service.merge(db.session, ask, into, editor_id=None))
    click.echo(f"merged into /q/{ask.question.slug}")


@asks_cli.command("decline")
@click.argument("ask_id", type=int)
@click.argument("reason")
def decline_command(ask_id: int, reason: str) -> None:
    """Decline question ASK_ID; REASON is shown to the asker."""
    ask = _ask(ask_id)
    _decided(lambda: service.decline(db.session, ask, reason, editor_id=None))
    click.echo("declined")
