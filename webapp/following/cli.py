"""`flask following notify`: send the daily digests that are due (run it from cron, every
hour or so: each account gets at most one a day, whenever its news comes)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.accounts.mail import mailer
from webapp.extensions import db
from webapp.following import digest

following_cli = AppGroup("following", help="Readers following questions.")


@following_cli.command("notify")
def notify_command() -> None:
    """Email each account that follows a changed question its digest, if one is due.
    Exit 0 when every due digest went (or mail is off), 1 when some failed (retried next run)."""
    app = current_app._get_current_object()
    if not app.config.get("MAIL_SERVER"):
        click.echo("notifications are off: MAIL_SERVER is not set (nothing sent, nothing marked)")
        return
    base = app.config["SITE_URL"] or "http://127.0.0.1:5000"
    with app.test_request_context("/", base_url=base):  # links in the messages, from SITE_URL
        accounts = digest.accounts_with_news(db.session)
        with click.progressbar(length=len(accounts), label="Digests", file=sys.stderr) as bar:
            outcome = digest.send_all(db.session, mailer(app), progress=bar.update)
    click.echo(f"sent {outcome.sent}, failed {outcome.failed} (retried next run), "
               f"waiting for their day {outcome.waiting}"
               + (f", {len(outcome.given_up)} interrupted earlier and not sent again" if outcome.given_up else ""))
    if outcome.failed:
        sys.exit(1)
