"""Accounts: register, log in and out, remember me, change password, delete; safe `next`,
CSRF on every POST, rate limits (in memory and in Redis), pages that need a login."""
from __future__ import annotations

import html
import re
import socket
import unicodedata
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import HTMX, PASSWORD, csrf_token, drop, make_app, make_user
from tests.pages import text_of
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


def test_register_logs_in_and_goes_to_a_safe_next(app, client):
    response = register(client, next="/support?x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/support?x=1"
    assert f"Welcome to Plumb, {NAME}." in text_of(client.get("/about"))
    assert logged_in_as(client) == EMAIL
    assert emails(app) == [EMAIL]


def test_register_refuses_a_next_to_another_site(app, client):
    response = register(client, next="//evil.example/phish")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert logged_in_as(client) == EMAIL


@pytest.mark.parametrize("fragment", [False, True], ids=["page", "fragment"])
def test_an_address_registered_already_is_refused_whatever_its_case(app, client, fragment):
    make_user(app, EMAIL)
    response = register(client, email="  Reader@EXAMPLE.org ", headers=HTMX if fragment else None)
    assert response.status_code == 422
    page = text_of(response)
    assert ("<html" in page) is not fragment
    assert field_error(page, "email") == "An account with this email address exists already. Log in instead."
    assert emails(app) == [EMAIL]
    assert logged_in_as(client) is None


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
    assert register(client, password=password).status_code == 303
    assert logged_in_as(client) == EMAIL
    other_browser = app.test_client()
    assert login(other_browser, password=password).status_code == 303
    assert logged_in_as(other_browser) == EMAIL


def test_long_passwords_are_not_truncated(app, client):
    # 80 characters (and far more than 72 bytes): bcrypt would ignore everything after byte 72.
    password = (GREEK * 3)[:79] + "α"
    assert register(client, password=password).status_code == 303
    differs_at_the_end = password[:-1] + "β"
    response = login(app.test_client(), password=differs_at_the_end)
    assert response.status_code == 401
    assert WRONG_LOGIN in text_of(response)
    assert login(app.test_client(), password=password).status_code == 303


def test_a_password_typed_composed_or_decomposed_is_the_same_password(app, client):
    password = "Crème brûlée à la plage, été"
    assert register(client, password=unicodedata.normalize("NFD", password)).status_code == 303
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
    assert register(client, password="a brand new start, walrus").status_code == 303
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

REDIS = "redis://127.0.0.1:6379"


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
        settings = {"LOGIN_LIMIT_ADDRESS": "100 per minute", "LOGIN_LIMIT_ACCOUNT": "100 per minute",
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


def test_failed_logins_are_limited_per_account(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT="3 per minute")
    victim, other = lim.email("victim"), lim.email("other")
    make_user(lim.app, victim)
    make_user(lim.app, other)
    browser = lim.browser()
    # The same account however its address is capitalised.
    for spelling in (victim, victim.upper(), victim.title()):
        assert login(browser, email=spelling, password="guess guess guess").status_code == 401
    assert_too_many(login(browser, email=victim, password="guess guess guess"))
    assert_too_many(login(browser, email=victim, password="another guess", headers=HTMX), fragment=True)
    # Now even the right password waits, from any address: guessing from many machines does not help.
    assert_too_many(login(lim.browser(address_offset=1), email=victim, password=PASSWORD))
    # Another account from the same address is not held up.
    assert login(browser, email=other, password=PASSWORD).status_code == 303
    assert logged_in_as(browser) == other


def test_successful_logins_do_not_use_up_the_account_allowance(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT="2 per minute")
    email = lim.email("regular")
    make_user(lim.app, email)
    browser = lim.browser()
    for _ in range(3):
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
    assert register(browser, email=lim.email("first")).status_code == 303
    assert_too_many(register(browser, email=lim.email("second")))
    assert_too_many(register(browser, email=lim.email("second"), headers=HTMX), fragment=True)
    assert emails(lim.app) == [lim.email("first")]


def test_asking_whether_an_address_has_an_account_is_limited_per_account(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT="2 per minute")
    taken = lim.email("taken")
    make_user(lim.app, taken)
    for offset in range(2):  # "exists already", from two machines
        assert register(lim.browser(address_offset=offset), email=taken).status_code == 422
    assert_too_many(register(lim.browser(address_offset=2), email=taken))
    # Other addresses register as usual.
    assert register(lim.browser(address_offset=3), email=lim.email("new")).status_code == 303


@pytest.mark.parametrize("storage", ["memory://"])  # the key, not the storage, is under test
def test_wrong_current_passwords_on_the_account_page_are_limited(limited):
    lim = limited(LOGIN_LIMIT_ACCOUNT="3 per minute")
    email = lim.email("reader")
    make_user(lim.app, email)
    browser = lim.browser()
    assert login(browser, email=email).status_code == 303
    for _ in range(3):
        assert change_password(browser, "guess guess guess", NEW_PASSWORD).status_code == 422
    assert_too_many(change_password(browser, PASSWORD, NEW_PASSWORD))
    assert login(lim.browser(address_offset=1), email=email, password=PASSWORD).status_code == 303
