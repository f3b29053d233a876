"""Accounts: register, log in and out, remember me, change password, delete; safe `next`,
CSRF on every POST, rate limits (in memory and in Redis), pages that need a login."""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
import os
import re
import socket
import time
import unicodedata
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from tests.apps import drop, make_app
from tests.pages import HTMX, csrf_token, form_token, text_of
from tests.pledging import make_campaign
from tests.readers import PASSWORD, make_user
from webapp.accounts.models import User
from webapp.extensions import db
from webapp.redirects import safe_next

EMAIL = "reader@example.org"
NAME = "Rea Der"
STRONG_12 = "vQ7#kP2!xZmw"
GREEK = "Καλημέρα, Πλαμπ! 🌅🐙 ωραίο πρωί"
WRONG_LOGIN = "That email address and password do not match an account."
TOO_COMMON = "That password is too common or too easy to guess."
BAD_TOKEN = "security token is missing or wrong"
NEW_PASSWORD = "a different walrus hums at dawn"


@pytest.fixture
def app(tmp_path):
    """As conftest's app, with the rate limits kept in this process's memory whatever
    REDIS_URL says, so that only the limit tests below meet a limit."""
    app = make_app(tmp_path, RATELIMIT_STORAGE_URI="memory://")
    yield app
    drop(app)


# --- helpers ------------------------------------------------------------------------


def register(client, email=EMAIL, password=PASSWORD, name=NAME, next=None, headers=None):
    data = {"email": email, "display_name": name, "password": password, "csrf_token": csrf_token(client, "/register")}
    if next is not None:
        data["next"] = next
    return client.post("/register", data=data, headers=headers or {})


def login(client, email=EMAIL, password=PASSWORD, remember=False, next=None, headers=None):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    if remember:
        data["remember"] = "y"
    if next is not None:
        data["next"] = next
    return client.post("/login", data=data, headers=headers or {})


def logged_in_as(client) -> str | None:
    """The email the account page shows this browser, or None when it is sent to log in."""
    response = client.get("/account")
    if response.status_code == 302:
        assert urlsplit(response.headers["Location"]).path == "/login"
        return None
    assert response.status_code == 200
    return re.search(r"<dt>Email</dt><dd>([^<]*)</dd>", text_of(response)).group(1)


def emails(app) -> list[str | None]:
    """Every account's address (None for a deleted one)."""
    with app.app_context():
        return list(db.session.scalars(select(User.email).order_by(User.id)))


def set_cookie(response, name: str) -> str:
    """The Set-Cookie header a response sends for cookie `name`."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return found[0]


def cookie_flags(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")[1:]}


def browser_with_only(app, name: str, value: str):
    """A new browser whose cookie jar holds nothing but this one cookie."""
    fresh = app.test_client()
    fresh.set_cookie(name, value)
    return fresh


def mails(app, to: str | None = None) -> list:
    """The messages the app handed to its mailer (the log mailer, without MAIL_SERVER)."""
    sent = list(app.extensions["mail"].sent) if "mail" in app.extensions else []
    return [m for m in sent if to is None or m.to == to]


def confirm_path(message) -> str:
    """The confirmation link a message carries, as a path on this site."""
    match = re.search(r"https://plumb\.example(/register/confirm/\S+)", message.text)
    assert match, message.text
    return match.group(1)


def follow(client, path: str):
    """Open a confirmation link and press its button, as its owner would."""
    page = client.get(path)
    assert page.status_code == 200, text_of(page)
    token = form_token(text_of(page))
    return client.post(path, data={"csrf_token": token})


def register_and_confirm(app, client, email=EMAIL, **fields):
    """Register, then follow the link mailed to the address: logged in, like a reader."""
    assert register(client, email=email, **fields).status_code == 200
    return follow(client, confirm_path(mails(app, service_email(email))[-1]))


def service_email(email: str) -> str:
    return email.strip().lower()


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<small id="{field}-error" class="field-error" role="alert">([^<]*)</small>', page)
    assert match, f"no error shown for {field}"
    return html.unescape(match.group(1))


# --- the forms as pages and fragments ----------------------------------------------


@pytest.mark.parametrize("url, heading", [("/login", "Log in"), ("/register", "Create an account")])
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "fragment"])
def test_login_and_register_forms_as_page_and_fragment(client, url, heading, fragment):
    response = client.get(url, headers=HTMX if fragment else {})
    assert response.status_code == 200
    page = text_of(response)
    assert ("<html" in page) is not fragment
    assert f">{heading}</h1>" in page
    assert re.search(r'name="csrf_token"[^>]*value="[^"]+"', page)
    password_kind = "new-password" if url == "/register" else "current-password"
    assert f'autocomplete="{password_kind}"' in page


# --- register -------------------------------------------------------------------------


CHECK_INBOX = "Check your inbox at <strong>reader@example.org</strong>: we sent a link to finish."


def test_registering_makes_an_unconfirmed_account_and_mails_its_link(app, client):
    response = register(client, next="/support?x=1")
    assert response.status_code == 200
    assert CHECK_INBOX in text_of(response)
    assert logged_in_as(client) is None  # not until the link is followed
    assert emails(app) == [EMAIL]
    [message] = mails(app)
    assert message.to == EMAIL and message.subject == "Confirm your Plumb account"
    # Not confirmed: the right password does not log in; it sends the link again, and says so.
    other = app.test_client()
    again = login(other)
    assert again.status_code == 200 and logged_in_as(other) is None
    assert "Your account is not confirmed yet. We sent a new link to <strong>reader@example.org</strong>" in \
        text_of(again)
    assert len(mails(app, EMAIL)) == 2
    # A wrong password to an unconfirmed account is only a wrong password (and sends nothing).
    wrong = login(other, password="not my password at all")
    assert wrong.status_code == 401 and WRONG_LOGIN in text_of(wrong)
    assert len(mails(app, EMAIL)) == 2


def test_the_confirmation_link_confirms_logs_in_and_goes_to_the_safe_next(app, client):
    register(client, next="/support?x=1")
    path = confirm_path(mails(app, EMAIL)[-1])
    page = client.get(path)  # opening the link (a mail scanner may too) changes nothing
    assert page.status_code == 200 and "Confirm and log in</button>" in text_of(page)
    assert logged_in_as(client) is None
    response = follow(client, path)
    assert response.status_code == 303 and response.headers["Location"] == "/support?x=1"
    assert f"Welcome to Plumb, {NAME}." in text_of(client.get("/about"))
    assert logged_in_as(client) == EMAIL
    # The link does not log in a second time: it is not a password.
    elsewhere = app.test_client()
    used = elsewhere.get(path)
    assert used.status_code == 303 and urlsplit(used.headers["Location"]).path == "/login"
    assert logged_in_as(elsewhere) is None
    assert login(elsewhere).status_code == 303


def test_registering_refuses_a_next_to_another_site(app, client):
    response = register_and_confirm(app, client, next="//evil.example/phish")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert logged_in_as(client) == EMAIL


@pytest.mark.parametrize("fragment", [False, True], ids=["page", "fragment"])
def test_registering_an_address_that_has_an_account_is_answered_like_a_new_one(app, client, fragment):
    """Same status, same page: registering tells no one which addresses have accounts."""
    make_user(app, EMAIL)
    headers = HTMX if fragment else None
    existing = register(client, email="  Reader@EXAMPLE.org ", password=NEW_PASSWORD, name="Someone Else",
                        headers=headers)
    fresh = register(app.test_client(), email="newcomer@example.org", password=NEW_PASSWORD, name="Someone Else",
                     headers=headers)
    assert existing.status_code == fresh.status_code == 200
    page = text_of(existing)
    assert ("<html" in page) is not fragment
    without_tokens = re.compile(r'value="[^"]{40,}"')  # each page's own CSRF token
    assert without_tokens.sub("", page).replace("reader@example.org", "ADDRESS") == \
        without_tokens.sub("", text_of(fresh)).replace("newcomer@example.org", "ADDRESS")
    assert CHECK_INBOX in page
    # The existing account is untouched: its password and name stand, and nothing else was made.
    assert emails(app) == [EMAIL, "newcomer@example.org"]
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 401
    other = app.test_client()
    assert login(other).status_code == 303 and logged_in_as(other) == EMAIL
    assert "Rea Der" in text_of(other.get("/account"))
    assert logged_in_as(client) is None
    # Its owner is told, with no link that could make or change anything.
    [message] = mails(app, EMAIL)
    assert message.subject == "Someone tried to register on Plumb with your address"
    assert "nothing was created and nothing was changed" in message.text
    assert "https://plumb.example/login" in message.text and "/register/confirm/" not in message.text


def test_registering_again_before_confirming_keeps_the_first_account_and_resends_its_link(app, client):
    register(client)
    first = mails(app, EMAIL)[-1]
    response = register(app.test_client(), password=NEW_PASSWORD, name="Second Try")
    assert response.status_code == 200 and CHECK_INBOX in text_of(response)
    assert emails(app) == [EMAIL]
    again = mails(app, EMAIL)[-1]
    assert again is not first and "keeps the name and password it was given then" in again.text
    assert follow(client, confirm_path(again)).status_code == 303
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 401  # the first password stands
    assert login(app.test_client()).status_code == 303


def test_an_unconfirmed_address_is_free_again_once_its_link_has_expired(app, client):
    register(client)  # someone registers an address that is not theirs, and never confirms
    stale_link = confirm_path(mails(app, EMAIL)[-1])
    with app.app_context():
        user = db.session.scalar(select(User))
        user.created_at -= dt.timedelta(hours=app.config["CONFIRM_LINK_HOURS"] + 1)
        db.session.commit()
    owner = app.test_client()
    assert register(owner, password=NEW_PASSWORD, name="The Owner").status_code == 200
    assert emails(app) == [EMAIL]
    # The squatter's link died with the lapsed account; the owner's works.
    stale = app.test_client().get(stale_link)
    assert stale.status_code == 400 and "no longer valid" in text_of(stale)
    assert follow(owner, confirm_path(mails(app, EMAIL)[-1])).status_code == 303
    assert logged_in_as(owner) == EMAIL
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 303


def test_registration_mail_to_one_address_is_limited_silently(app, client):
    app.config["MAIL_LIMIT_RECIPIENT"] = "2 per hour"
    make_user(app, EMAIL)
    answers = [register(app.test_client(), password=NEW_PASSWORD) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(CHECK_INBOX in text_of(a) for a in answers)  # the same answer, even when no mail goes
    assert len(mails(app, EMAIL)) == 2


def test_logging_in_inline_to_an_unconfirmed_account_sends_the_link_again(app, client):
    make_campaign(app)
    register(client)
    response = client.post("/support/login", headers=HTMX,
                           data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(client)})
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert "Your account is not confirmed yet. We sent a new link to <strong>reader@example.org</strong>" in text
    assert len(mails(app, EMAIL)) == 2 and logged_in_as(client) is None
    assert follow(client, confirm_path(mails(app, EMAIL)[-1])).headers["Location"] == "/support#support-widget"
    assert logged_in_as(client) == EMAIL


@pytest.mark.parametrize("taken", [False, True], ids=["new-address", "existing-account"])
def test_when_mail_cannot_be_sent_registering_is_a_503_alike_for_every_address(app, client, taken):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_USE_TLS=False)
    if taken:
        make_user(app, EMAIL)
    response = register(client)
    # (Flask-Limiter raises Retry-After to its own window's reset when that is later.)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert "We could not send you a message just now." in text_of(response)
    assert logged_in_as(client) is None


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.mark.parametrize("change", ["tampered", "expired", "garbage"])
def test_a_changed_or_expired_confirmation_link_is_a_400_page_and_confirms_nothing(app, client, change,
                                                                                    monkeypatch):
    register(client)
    path = confirm_path(mails(app, EMAIL)[-1])
    if change == "tampered":  # another account's number in the same signed payload
        head, _, rest = path.rpartition("/")[2].partition(".")
        data = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        data["id"] = 2
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        path = f"/register/confirm/{forged}.{rest}"
    elif change == "expired":  # a link made longer ago than CONFIRM_LINK_HOURS
        hours = app.config["CONFIRM_LINK_HOURS"]
        with monkeypatch.context() as patch:
            patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - hours * 3600 - 5)
            register(app.test_client(), password=NEW_PASSWORD)  # the link again, made back then
        path = confirm_path(mails(app, EMAIL)[-1])
    else:
        path = "/register/confirm/not-a-token"
    for method in (client.get, client.post):
        response = method(path, data={"csrf_token": csrf_token(client)} if method == client.post else None)
        assert response.status_code == 400
        page = text_of(response)
        assert "<html" in page and ("expired" if change == "expired" else "not valid") in page
    assert logged_in_as(client) is None
    with app.app_context():
        assert db.session.scalar(select(User.confirmed_at)) is None


@pytest.mark.parametrize("email", ["not-an-address", "reader@localhost", "@example.org", "rea der@example.org",
                                   "x" * 250 + "@example.org"])
def test_a_bad_email_address_is_refused(app, client, email):
    response = register(client, email=email)
    assert response.status_code == 422
    assert field_error(text_of(response), "email") == "Enter an email address like name@example.org."
    assert emails(app) == []
    assert logged_in_as(client) is None


REFUSED_PASSWORDS = [
    pytest.param(STRONG_12[:11], "Use at least 12 characters.", id="11-chars"),
    pytest.param(("vQ7#kP2!xZmw-" * 10)[:129], "Use at most 128 characters.", id="129-chars"),
    pytest.param("passwordpassword", TOO_COMMON, id="passwordpassword"),
    pytest.param("123456789012", TOO_COMMON, id="123456789012"),
    pytest.param("qwertyuiopasdf", TOO_COMMON, id="qwertyuiopasdf"),
]


@pytest.mark.parametrize("password, message", REFUSED_PASSWORDS)
def test_weak_or_out_of_range_passwords_are_refused_and_nothing_is_written(app, client, password, message):
    response = register(client, password=password)
    assert response.status_code == 422
    page = text_of(response)
    assert field_error(page, "password").startswith(message)
    assert password not in page  # the refused password is not echoed back
    assert emails(app) == []
    assert logged_in_as(client) is None


@pytest.mark.parametrize("password", [
    pytest.param(STRONG_12, id="12-chars"),
    pytest.param(("vQ7#kP2!xZmw-" * 10)[:128], id="128-chars"),
    pytest.param(GREEK, id="greek-and-emoji"),
])
def test_strong_passwords_from_12_to_128_characters_of_any_script_are_accepted(app, client, password):
    assert register_and_confirm(app, client, password=password).status_code == 303
    assert logged_in_as(client) == EMAIL
    other_browser = app.test_client()
    assert login(other_browser, password=password).status_code == 303
    assert logged_in_as(other_browser) == EMAIL


def test_long_passwords_are_not_truncated(app, client):
    # 80 characters (and far more than 72 bytes): bcrypt would ignore everything after byte 72.
    password = (GREEK * 3)[:79] + "α"
    assert register_and_confirm(app, client, password=password).status_code == 303
    differs_at_the_end = password[:-1] + "β"
    response = login(app.test_client(), password=differs_at_the_end)
    assert response.status_code == 401
    assert WRONG_LOGIN in text_of(response)
    assert login(app.test_client(), password=password).status_code == 303


def test_a_password_typed_composed_or_decomposed_is_the_same_password(app, client):
    password = "Crème brûlée à la plage, été"
    assert register_and_confirm(app, client, password=unicodedata.normalize("NFD", password)).status_code == 303
    assert login(app.test_client(), password=unicodedata.normalize("NFC", password)).status_code == 303


# --- log in and out -------------------------------------------------------------------


@pytest.mark.parametrize("email, password, fragment", [
    pytest.param(EMAIL, "not my password at all", False, id="wrong-password"),
    pytest.param("nobody@example.org", PASSWORD, False, id="unknown-email"),
    pytest.param(EMAIL, "not my password at all", True, id="wrong-password-fragment"),
])
def test_a_wrong_login_is_a_401_with_one_message_for_both_cases(app, client, email, password, fragment):
    make_user(app, EMAIL)
    response = login(client, email=email, password=password, headers=HTMX if fragment else None)
    assert response.status_code == 401
    page = text_of(response)
    assert ("<html" in page) is not fragment
    assert field_error(page, "password") == WRONG_LOGIN
    assert f'value="{email}"' in page  # the address stays filled in
    assert password not in page
    assert logged_in_as(client) is None


def test_logout_logs_out(app, client, auth):
    auth.register()
    assert auth.login().status_code == 303
    response = auth.logout()
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert logged_in_as(client) is None
    assert "You are logged out." in text_of(client.get("/about"))


def test_cookies_are_httponly_and_samesite_lax_but_not_secure_in_development(app, client, auth):
    auth.register()
    response = auth.login(remember=True)
    for name in ("session", "remember_token"):
        flags = cookie_flags(set_cookie(response, name))
        assert {"HttpOnly", "SameSite=Lax"} <= flags, name
        assert "Secure" not in flags, name


@pytest.mark.parametrize("how", ["overrides", "PLUMB_ENV=production"])
def test_cookies_are_secure_outside_development(tmp_path, monkeypatch, how):
    if how == "overrides":
        app = make_app(tmp_path, RATELIMIT_STORAGE_URI="memory://", SESSION_COOKIE_SECURE=True,
                       REMEMBER_COOKIE_SECURE=True)
    else:
        monkeypatch.setenv("PLUMB_ENV", "production")
        monkeypatch.setenv("SECRET_KEY", "production-like-secret")
        monkeypatch.setenv("TRUSTED_HOSTS", "localhost")  # the test client's host
        app = make_app(tmp_path, RATELIMIT_STORAGE_URI="memory://")
    try:
        make_user(app)
        client = app.test_client()
        assert "Secure" in cookie_flags(set_cookie(client.get("/login"), "session"))
        response = login(client, remember=True)
        assert response.status_code == 303
        for name in ("session", "remember_token"):
            assert {"Secure", "HttpOnly", "SameSite=Lax"} <= cookie_flags(set_cookie(response, name)), name
    finally:
        drop(app)


def test_the_session_is_renewed_at_login(app, client, auth):
    auth.register()
    token_before = csrf_token(client, "/login")
    with client.session_transaction() as s:
        s["planted"] = "by someone who handed this browser a session"
        s["trail"] = ["/q/why-is-the-sky-blue"]
        s["pledge_draft"] = {"amount_cents": 1000}
    cookie_before = client.get_cookie("session").value
    assert login(client).status_code == 303
    assert client.get_cookie("session").value != cookie_before
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["trail"] == ["/q/why-is-the-sky-blue"]
        assert s["pledge_draft"] == {"amount_cents": 1000}
    # A form rendered before logging in (another tab) still posts.
    assert client.post("/logout", data={"csrf_token": token_before}).status_code == 303
    assert logged_in_as(client) is None


def post_with(client, token: str) -> int:
    """The status of a harmless POST (clearing the reading path) carrying `token`: 400 when refused."""
    return client.post("/trail/clear", data={"csrf_token": token}).status_code


def test_a_csrf_token_from_before_login_works_once_after_it_and_then_never(app, client, auth):
    """Finding 14: the token a page gave before logging in (or one planted with a session
    cookie) must not go on working for the logged-in session."""
    auth.register()
    planted = csrf_token(client, "/login")
    assert login(client).status_code == 303
    fresh = csrf_token(client, "/account")
    assert fresh != planted
    assert post_with(client, planted) == 303  # a form left open in another tab still posts, once
    assert post_with(client, planted) == 400
    assert post_with(client, fresh) == 303 and post_with(client, fresh) == 303


def test_a_csrf_token_from_before_login_is_refused_after_a_few_minutes(app, client, auth, monkeypatch):
    auth.register()
    planted = csrf_token(client, "/login")
    assert login(client).status_code == 303
    later = time.time() + 5 * 60 + 1
    monkeypatch.setattr("webapp.csrf_tokens.time.time", lambda: later)
    assert post_with(client, planted) == 400
    assert post_with(client, csrf_token(client, "/account")) == 303


def test_logging_in_inline_gives_the_widget_forms_a_new_token(app, client, auth):
    auth.register()
    make_campaign(app)
    planted = csrf_token(client, "/login")
    response = client.post("/support/login", headers=HTMX,
                           data={"email": EMAIL, "password": PASSWORD, "csrf_token": planted})
    assert response.status_code == 200 and "You are logged in as" in text_of(response)
    in_widget = set(re.findall(r'name="csrf_token" value="([^"]+)"', text_of(response)))
    assert in_widget and planted not in in_widget
    assert post_with(client, in_widget.pop()) == 303


# --- remember me ---------------------------------------------------------------------


def test_the_remember_cookie_logs_a_new_browser_in(app, client, auth):
    auth.register()
    response = auth.login(remember=True)
    assert {"HttpOnly", "SameSite=Lax"} <= cookie_flags(set_cookie(response, "remember_token"))
    remembered = browser_with_only(app, "remember_token", client.get_cookie("remember_token").value)
    assert logged_in_as(remembered) == EMAIL


def test_without_remember_me_there_is_no_remember_cookie(app, client, auth):
    auth.register()
    response = auth.login()
    assert not any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize("leave", ["logout", "delete"])
def test_logging_out_deletes_the_remember_cookie_in_the_browser(app, client, auth, leave):
    auth.register()
    auth.login(remember=True)
    assert client.get_cookie("remember_token") is not None
    response = auth.logout() if leave == "logout" else delete_account(client, PASSWORD)
    assert response.status_code == 303
    header = set_cookie(response, "remember_token")
    assert header.startswith("remember_token=;") and "Max-Age=0" in cookie_flags(header)
    assert client.get_cookie("remember_token") is None


def test_the_remember_cookie_stops_working_after_logout(app, client, auth):
    auth.register()
    auth.login(remember=True)
    stolen = client.get_cookie("remember_token").value
    assert logged_in_as(browser_with_only(app, "remember_token", stolen)) == EMAIL
    auth.logout()
    assert logged_in_as(browser_with_only(app, "remember_token", stolen)) is None


def test_the_remember_cookie_stops_working_after_a_password_change_elsewhere(app, client, auth):
    auth.register()
    auth.login(remember=True)
    remembered = client.get_cookie("remember_token").value
    laptop = app.test_client()
    assert login(laptop).status_code == 303
    new_password = NEW_PASSWORD
    response = laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": new_password,
                                                      "csrf_token": csrf_token(laptop, "/account")})
    assert response.status_code == 303
    assert logged_in_as(browser_with_only(app, "remember_token", remembered)) is None
    assert logged_in_as(client) is None  # the first browser's session ended too
    assert logged_in_as(laptop) == EMAIL


# --- change password -----------------------------------------------------------------


def change_password(client, current, new, headers=None):
    return client.post("/account/password", headers=headers or {},
                       data={"current_password": current, "new_password": new,
                             "csrf_token": csrf_token(client, "/account")})


@pytest.mark.parametrize("current, new, field, message, fragment", [
    pytest.param("not my password at all", NEW_PASSWORD, "current_password", "That is not your current password.",
                 False, id="wrong-current"),
    pytest.param(PASSWORD, "passwordpassword", "new_password", TOO_COMMON, False, id="common-new"),
    pytest.param(PASSWORD, "vQ7#kP2!xZm", "new_password", "Use at least 12 characters.", False, id="short-new"),
    pytest.param(PASSWORD, "passwordpassword", "new_password", TOO_COMMON, True, id="common-new-fragment"),
])
def test_a_refused_password_change_is_a_422_and_changes_nothing(app, client, auth, current, new, field, message,
                                                                fragment):
    auth.register()
    auth.login()
    response = change_password(client, current, new, headers=HTMX if fragment else None)
    assert response.status_code == 422
    page = text_of(response)
    assert ("<html" in page) is not fragment
    assert field_error(page, field).startswith(message)
    assert logged_in_as(client) == EMAIL
    assert login(app.test_client(), password=PASSWORD).status_code == 303


def test_a_password_change_keeps_this_browser_in_and_the_old_password_out(app, client, auth):
    auth.register()
    auth.login(remember=True)
    new_password = NEW_PASSWORD
    response = change_password(client, PASSWORD, new_password)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    page = text_of(client.get("/account"))
    assert "Your password is changed. Other devices have been logged out." in page
    assert logged_in_as(client) == EMAIL
    # This browser asked to be remembered: its new remember cookie works, the old one does not.
    assert logged_in_as(browser_with_only(app, "remember_token", client.get_cookie("remember_token").value)) == EMAIL
    assert login(app.test_client(), password=PASSWORD).status_code == 401
    assert login(app.test_client(), password=new_password).status_code == 303


# --- delete account ------------------------------------------------------------------


def delete_account(client, password):
    return client.post("/account/delete", data={"password": password, "csrf_token": csrf_token(client, "/account")})


def test_deleting_with_a_wrong_password_is_a_422_and_changes_nothing(app, client, auth):
    auth.register()
    auth.login()
    response = delete_account(client, "not my password at all")
    assert response.status_code == 422
    assert field_error(text_of(response), "password") == "That is not your password."
    assert logged_in_as(client) == EMAIL
    assert emails(app) == [EMAIL]


def test_a_deleted_account_is_logged_out_and_gone_and_its_address_free(app, client, auth):
    auth.register()
    auth.login(remember=True)
    remembered = client.get_cookie("remember_token").value
    response = delete_account(client, PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Your account is deleted." in text_of(client.get("/about"))
    assert logged_in_as(client) is None
    assert logged_in_as(browser_with_only(app, "remember_token", remembered)) is None
    assert emails(app) == [None]
    response = login(client)
    assert response.status_code == 401 and WRONG_LOGIN in text_of(response)
    assert register_and_confirm(app, client, password="a brand new start, walrus").status_code == 303
    assert logged_in_as(client) == EMAIL
    assert emails(app) == [None, EMAIL]


# --- next after login ----------------------------------------------------------------

FOREIGN_NEXTS = [
    "https://evil.example",
    "//evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",  # encoded twice
    "/%09/evil.example",  # a tab that browsers drop: //evil.example
    "https:evil.example",
]


@pytest.mark.parametrize("value", FOREIGN_NEXTS)
def test_safe_next_refuses_anything_but_a_local_path(value):
    assert safe_next(value, "/fallback") == "/fallback"


@pytest.mark.parametrize("value", ["/support?x=1", "/q/why-is-the-sky-blue#sources", "/search?q=a%20b"])
def test_safe_next_keeps_local_paths(value):
    assert safe_next(value, "/fallback") == value


def test_login_only_ever_redirects_to_a_path_on_this_site(app, client):
    make_user(app)
    expected = {value: "/" for value in FOREIGN_NEXTS[:9]} | {"/support?x=1": "/support?x=1"}
    where = {}
    for value in expected:  # one login each (a login costs a password hash)
        response = login(client, next=value)
        assert response.status_code == 303, value
        where[value] = response.headers["Location"]
    assert where == expected


def test_the_next_in_the_login_url_is_used(app, client):
    make_user(app)
    response = client.post("/login?next=/support%3Fx%3D1", data={"email": EMAIL, "password": PASSWORD,
                                                                 "csrf_token": csrf_token(client, "/login")})
    assert response.headers["Location"] == "/support?x=1"
    response = client.post("/login?next=//evil.example", data={"email": EMAIL, "password": PASSWORD,
                                                               "csrf_token": csrf_token(client, "/login")})
    assert response.headers["Location"] == "/"


# --- CSRF ----------------------------------------------------------------------------

CSRF_CASES = [
    # url, fields, logged in first
    ("/login", {"email": EMAIL, "password": PASSWORD}, False),
    ("/register", {"email": "new@example.org", "display_name": "New", "password": NEW_PASSWORD}, False),
    ("/logout", {}, True),
    ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, True),
    ("/account/delete", {"password": PASSWORD}, True),
]


@pytest.mark.parametrize("url, fields, logged_in", CSRF_CASES, ids=[c[0] for c in CSRF_CASES])
@pytest.mark.parametrize("token", ["missing", "wrong-in-htmx-header"])
def test_posts_without_a_good_csrf_token_are_refused_and_change_nothing(app, client, auth, url, fields, logged_in,
                                                                        token):
    auth.register()
    if logged_in:
        auth.login()
    if token == "missing":
        response = client.post(url, data=fields)
    else:
        response = client.post(url, data=fields, headers={**HTMX, "X-CSRFToken": "forged.token.value"})
    assert response.status_code == 400
    page = text_of(response)
    assert BAD_TOKEN in page and "Reload the page and try again." in page
    assert ("<html" in page) is (token == "missing")
    assert logged_in_as(client) == (EMAIL if logged_in else None)
    assert emails(app) == [EMAIL]
    if url.startswith("/account/"):  # the password is still the same
        assert login(app.test_client(), password=PASSWORD).status_code == 303


def test_the_csrf_token_in_the_htmx_header_is_accepted(app, client, auth):
    auth.register()
    auth.login()
    response = client.post("/logout", headers={**HTMX, "X-CSRFToken": csrf_token(client, "/account")})
    assert response.status_code == 303
    assert logged_in_as(client) is None


# --- pages that need a login ---------------------------------------------------------


@pytest.mark.parametrize("url", ["/account", "/support/mine", "/support/mine?page=2"])
def test_logged_out_readers_are_sent_to_log_in_and_brought_back(client, url):
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("url", ["/account", "/support/mine"])
def test_htmx_requests_that_need_a_login_get_401_and_hx_redirect(client, url):
    response = client.get(url, headers=HTMX)
    assert response.status_code == 401
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == [url]


def test_the_login_page_remembers_where_the_reader_was_going(app, client):
    make_user(app)
    login_url = client.get("/account").headers["Location"]
    page = text_of(client.get(login_url))
    kept = html.unescape(re.search(r'<input id="next" name="next" type="hidden" value="([^"]*)">', page).group(1))
    response = login(client, next=kept)
    assert response.headers["Location"] == "/account"
    assert logged_in_as(client) == EMAIL


# --- rate limits ---------------------------------------------------------------------

# Its own database where TEST_REDIS_URL names one: make_app resets the limiter's storage.
REDIS = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379"


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


STORAGES = [
    pytest.param("memory://", id="memory"),
    pytest.param(REDIS, id="redis", marks=pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")),
]


class Limited:
    """An app whose limits live in `storage`, and names no other test (or run) uses: its
    own key prefix, addresses and email addresses, since Redis keeps counts for a minute."""

    def __init__(self, tmp_path, storage, **limits):
        self.run = uuid.uuid4().hex[:12]
        settings = {"LOGIN_LIMIT_ADDRESS": "100 per minute", "LOGIN_LIMIT_ACCOUNT_ADDRESS": "100 per minute",
                    "REGISTER_LIMIT_ADDRESS": "100 per minute", **limits}
        self.app = make_app(tmp_path, RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=f"plumb-test-{self.run}",
                            **settings)
        n = int(self.run, 16)
        self._address = [10, n >> 16 & 255, n >> 8 & 255, n & 255]

    def email(self, who: str) -> str:
        return f"{who}-{self.run}@example.org"

    def browser(self, address_offset: int = 0):
        """A browser at this test's address (or a neighbour of it)."""
        client = self.app.test_client()
        a, b, c, d = self._address
        client.environ_base["REMOTE_ADDR"] = f"{a}.{b}.{c}.{(d + address_offset) % 256}"
        return client

    def signed_in_reader(self) -> tuple[str, object]:
        """A reader's account, and a browser at this test's address logged in to it."""
        email = self.email("reader")
        make_user(self.app, email)
        browser = self.browser()
        assert login(browser, email=email).status_code == 303
        return email, browser


@pytest.fixture(params=STORAGES)
def storage(request):
    return request.param


@pytest.fixture
def limited(tmp_path, storage):
    made = []

    def make(**limits):
        made.append(Limited(tmp_path, storage, **limits))
        return made[-1]

    yield make
    for one in made:
        drop(one.app)


def assert_too_many(response, fragment=False):
    assert response.status_code == 429
    page = text_of(response)
    assert "Too many requests" in page
    assert ("<html" in page) is not fragment
    assert int(response.headers["Retry-After"]) > 0


def test_failed_logins_are_limited_per_account_and_address(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT_ADDRESS="3 per minute")
    victim, other = lim.email("victim"), lim.email("other")
    make_user(lim.app, victim)
    make_user(lim.app, other)
    browser = lim.browser()
    # The same account however its address is capitalised.
    for spelling in (victim, victim.upper(), victim.title()):
        assert login(browser, email=spelling, password="guess guess guess").status_code == 401
    assert_too_many(login(browser, email=victim, password="guess guess guess"))
    assert_too_many(login(browser, email=victim, password="another guess", headers=HTMX), fragment=True)
    # Refused before the password is looked at: the right one waits too, from here.
    assert_too_many(login(browser, email=victim, password=PASSWORD))
    # Its owner, at another address, is not held up by this one's guesses.
    owner = lim.browser(address_offset=1)
    assert login(owner, email=victim, password=PASSWORD).status_code == 303
    assert logged_in_as(owner) == victim
    # Another account from the same address is not held up either.
    assert login(browser, email=other, password=PASSWORD).status_code == 303
    assert logged_in_as(browser) == other


def test_wrong_passwords_from_rotating_addresses_do_not_lock_the_owner_out(limited):
    """Finding 1: 40 slow guesses from 40 addresses used to lock the owner out for a day."""
    lim = limited(LOGIN_LIMIT_ACCOUNT_ADDRESS="5 per minute;10 per 15 minutes", LOGIN_FREE_FAILURES=5,
                  LOGIN_DELAY_SECONDS=30, LOGIN_MAX_DELAY_SECONDS=900)
    victim = lim.email("victim")
    make_user(lim.app, victim)
    guesses = [login(lim.browser(address_offset=n), email=victim, password=f"guess number {n} of many")
               for n in range(1, 41)]  # one wrong password from each of 40 addresses
    # The owner, from an address that has not guessed, logs in at once.
    owner = lim.browser()
    assert login(owner, email=victim, password=PASSWORD).status_code == 303
    assert logged_in_as(owner) == victim
    assert [g.status_code for g in guesses] == [401] * 40  # each address had its one try
    # The addresses that guessed are refused (even with the right password: it is not
    # checked), for minutes at most.
    for n in (1, 40):
        refused = login(lim.browser(address_offset=n), email=victim, password=PASSWORD)
        assert_too_many(refused)
        assert int(refused.headers["Retry-After"]) <= 900
        assert "Please wait 15 minutes" in text_of(refused)


def test_each_further_failure_makes_the_guessing_addresses_wait_longer_up_to_a_cap(limited):
    lim = limited(LOGIN_FREE_FAILURES=2, LOGIN_DELAY_SECONDS=120, LOGIN_MAX_DELAY_SECONDS=400)
    victim = lim.email("victim")
    make_user(lim.app, victim)
    guesser = lim.browser(address_offset=1)

    def fail_from_a_new_address(n):
        assert login(lim.browser(address_offset=10 + n), email=victim, password="wrong wrong wrong").status_code == 401

    assert login(guesser, email=victim, password="wrong wrong wrong").status_code == 401
    fail_from_a_new_address(1)  # two failures: still free
    assert login(guesser, email=victim, password="wrong wrong wrong").status_code == 401  # the third
    waits = []
    for n in range(2, 6):
        response = login(guesser, email=victim, password="wrong wrong wrong")
        assert_too_many(response)
        waits.append(int(response.headers["Retry-After"]))
        fail_from_a_new_address(n)  # a new address may still try once, and fails
    # 2 minutes after the third failure, then 4, then 400 s (the cap), whoever failed.
    assert 60 < waits[0] <= 120 < waits[1] <= 240 < waits[2] <= 400 and 240 < waits[3] <= 400


def test_successful_logins_do_not_use_up_the_account_allowance(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT_ADDRESS="2 per minute")
    email = lim.email("regular")
    make_user(lim.app, email)
    browser = lim.browser()
    for _ in range(3):
        assert login(browser, email=email, password=PASSWORD).status_code == 303
    # A login with the right password forgives this address's own slips.
    for _ in range(2):
        assert login(browser, email=email, password="a typo in it").status_code == 401
        assert login(browser, email=email, password=PASSWORD).status_code == 303


def test_login_attempts_are_limited_per_address(limited):
    lim = limited(LOGIN_LIMIT_ADDRESS="5 per minute")
    email = lim.email("reader")
    make_user(lim.app, email)
    browser = lim.browser()
    assert login(browser, email=email, password=PASSWORD).status_code == 303
    for n in range(4):  # any attempt counts, whichever account it names
        assert login(browser, email=lim.email(f"guess{n}"), password="guess guess guess").status_code == 401
    assert_too_many(login(browser, email=email, password=PASSWORD))
    assert_too_many(login(browser, email=email, password=PASSWORD, headers=HTMX), fragment=True)
    # Another address is not held up.
    elsewhere = lim.browser(address_offset=1)
    assert login(elsewhere, email=email, password=PASSWORD).status_code == 303


def test_registering_is_limited_per_address_and_a_limited_attempt_writes_nothing(limited):
    lim = limited(REGISTER_LIMIT_ADDRESS="2 per minute")
    browser = lim.browser()
    assert register(browser, email="not-an-address").status_code == 422
    assert register(browser, email=lim.email("first")).status_code == 200
    assert_too_many(register(browser, email=lim.email("second")))
    assert_too_many(register(browser, email=lim.email("second"), headers=HTMX), fragment=True)
    assert emails(lim.app) == [lim.email("first")]


@pytest.mark.parametrize("storage", ["memory://"])  # the key, not the storage, is under test
def test_wrong_current_passwords_on_the_account_page_are_limited(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT_ADDRESS="3 per minute")
    email, browser = lim.signed_in_reader()
    for _ in range(3):
        assert change_password(browser, "guess guess guess", NEW_PASSWORD).status_code == 422
    assert_too_many(change_password(browser, PASSWORD, NEW_PASSWORD))
    assert login(lim.browser(address_offset=1), email=email, password=PASSWORD).status_code == 303


def test_new_passwords_the_rules_refuse_are_not_wrong_passwords(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT_ADDRESS="3 per minute")
    email, browser = lim.signed_in_reader()
    for _ in range(4):  # the right current password, a new one that is too weak
        assert change_password(browser, PASSWORD, "password").status_code == 422
    assert change_password(browser, PASSWORD, NEW_PASSWORD).status_code == 303


def test_wrong_passwords_when_deleting_the_account_are_limited_too(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT_ADDRESS="3 per minute")
    email, browser = lim.signed_in_reader()
    for _ in range(3):
        assert delete_account(browser, "guess guess guess").status_code == 422
    assert_too_many(delete_account(browser, PASSWORD))
    assert login(lim.browser(address_offset=1), email=email, password=PASSWORD).status_code == 303  # still there
