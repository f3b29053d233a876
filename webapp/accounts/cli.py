"""`flask accounts …`: roles, for whoever runs the site."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.accounts import service
from webapp.extensions import db

accounts_cli = AppGroup("accounts", help="Reader and editor accounts.")


@accounts_cli.command("create")
@click.argument("email")
@click.option("--name", prompt="Name shown to the account's owner", help="The account's display name.")
@click.password_option(help="The password (asked for when not given).")
@click.option("--editor", is_flag=True, help="Give the account the editor role.")
def create(email: str, name: str, password: str, editor: bool) -> None:
    """Create a confirmed account for EMAIL (no mail is sent; it can log in at once)."""
    try:
        user = service.create_confirmed(db.session, email, name, password)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    user.is_editor = editor
    db.session.commit()
    click.echo(f"{user.email} can log in now{' (an editor)' if editor else ''}")


@accounts_cli.command("confirm")
@click.argument("email")
def confirm(email: str) -> None:
    """Confirm EMAIL's account by hand (when its owner cannot receive the link)."""
    user = service.user_by_email(db.session, email)
    if user is None or not user.is_active:
        raise click.ClickException(f"no account with the address {email!r}")
    service.confirm(db.session, user)
    click.echo(f"{user.email} is confirmed")


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
