"""Accounts for tests, and readers logged in on a test client."""
from __future__ import annotations

from functools import cache

from tests.pages import csrf_token
from webapp.accounts import passwords, service as accounts
from webapp.accounts.models import User
from webapp.extensions import db

PASSWORD = "plumb-line-7-walrus-quietly"


def make_user(app, email: str = "reader@example.org", name: str = "Rea Der", password: str = PASSWORD, editor=False):
    with app.app_context():
        user = accounts.create_confirmed(db.session, email, name, password)  # as if its link was followed
        user.is_editor = editor
        db.session.commit()
        return user.id


@cache
def password_hash() -> str:
    return passwords.hashed(PASSWORD)


def sign_in(app, client, email="reader@example.org", name="Rea Der") -> int:
    """A new account, signed in on `client` as a login leaves it. Quicker than `Auth`
    (scrypt twice per test); the tests of logging in use the real forms."""
    with app.app_context():
        user = User(email=email, display_name=name, password_hash=password_hash(),
                    session_token=accounts.new_session_token())
        db.session.add(user)
        db.session.commit()
        user_id, ident = user.id, user.get_id()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = ident, True
    return user_id


class Auth:
    """Log a test client in and out the way a browser does (with the form's CSRF token)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def register(self, email="reader@example.org", name="Rea Der", password=PASSWORD) -> int:
        return make_user(self.app, email, name, password)

    def login(self, email="reader@example.org", password=PASSWORD, remember=False, **extra):
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client, "/login"), **extra}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client)})
