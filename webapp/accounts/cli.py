"""`flask accounts …`: roles, for whoever runs the site."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.accounts import service
from webapp.extensions import db

accounts_cli = AppGroup("accounts", help="Reader and editor accounts.")


@accounts_cli.command("editor")
@click.argument("email")
@click.option("--remove", is_flag=True, help="Take the editor role away instead.")
def editor(email: str, remove: bool) -> None:
    """Give the account with EMAIL the editor role (gaps, orphans, suggestion marks)."""
    user = service.user_by_email(db.session, email)
    if user is None or not user.is_active:
        raise click.ClickException(f"no account with the address {email!r}")
    user.is_editor = not remove
    db.session.commit()
    click.echo(f"{user.email} is {'no longer ' if remove else ''}an editor")
