"""Accounts in browser journeys: a new confirmed account on the served app, and logging
it in through the real form."""
from __future__ import annotations

import itertools

from playwright.sync_api import expect

from tests.readers import PASSWORD, make_user

_numbers = itertools.count(1)


def account(server, editor: bool = False) -> str:
    """A new confirmed account's email (an editor's if asked)."""
    email = f"{'editor' if editor else 'reader'}{next(_numbers)}-{id(server):x}@example.org"
    make_user(server.app, email, "Edi Tor" if editor else "Rea Der", PASSWORD, editor=editor)
    return email


def log_in(page, server, email: str, then: str) -> None:
    page.goto(f"{server.url}/login?next={then}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + then)
