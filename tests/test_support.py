"""The supporter widget, pledging through it, /support, /support/mine and /support/progress:
each route as a page and as an htmx fragment, in every campaign state."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from tests.pages import HTMX, bar, checked, count_line, csrf_token, field, get, links, part, text_of
from tests.pledging import counters, form_of, make_campaign, pledge_rows, post_pledge, widget
from tests.readers import PASSWORD, make_user, sign_in
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.support import pledges as pledge_service
from webapp.support import wall as supporter_wall
from webapp.support.choices import Choice
from webapp.support.models import Campaign, Pledge

SKY = "/q/why-is-the-sky-blue"
OTHER = dict(email="other@example.org", name="Oth Er")


# --- helpers -------------------------------------------------------------------------------

def token(client) -> str:
    """The CSRF token as the widget's forms carry it (or another page, when it has no form)."""
    return field(text_of(widget(client)), "csrf_token") or csrf_token(client)


def consistent(app) -> bool:
    with app.app_context():
        return pledge_service.check(db.session) == []


def progress_line(client) -> str:
    return count_line(text_of(client.get("/support/progress", headers=HTMX)))


@pytest.fixture
def reader(app, client, campaign):
    """A logged-in reader and a running campaign."""
    sign_in(app, client)
    return campaign


def log_in_other(app):
    """A second reader in a second browser."""
    other = app.test_client()
    return other, sign_in(app, other, **OTHER)


# --- the widget on every page -----------------------------------------------------------------

def test_every_page_ships_a_lazy_placeholder_with_a_plain_link(demo, client, campaign):
    for url in ("/", SKY):
        page = text_of(client.get(url))
        placeholder = part(page, '<aside id="support-widget"', "</aside>")
        assert 'hx-get="/support/widget"' in placeholder and 'hx-trigger="load"' in placeholder
        assert "Loading…" in placeholder
        assert ("/support", "Support Plumb: see our goal and pledge") in links(placeholder)
        assert "Goal:" not in page  # the widget itself is not rendered into the cached page


def test_the_widget_fragment_shows_the_goal_count_percent_and_an_accessible_bar(client, campaign):
    response = widget(client)
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert "HX-Request" in response.headers["Vary"]
    assert text.strip().startswith('<aside id="support-widget"') and 'hx-target="this"' in text
    assert '<h2 id="support-heading">Keep Plumb independent</h2>' in text
    assert "Readers pay for the research" in text
    assert "Goal: 1,000 supporters" in text
    assert count_line(text) == "0 of 1,000 supporters · 0%"
    progress = bar(text)
    assert (progress["value"], progress["max"]) == ("0", "1000")
    assert progress["aria-labelledby"] == "support-count"
    assert progress["aria-valuetext"] == "0 of 1,000 supporters, 0%"
    assert 'action="/support/pledge"' in text and "Continue</button>" in text  # logged out
    assert [checked(text, "amount"), checked(text, "frequency")] == ["1000", "once"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", field(text, "key"))


def test_the_widget_url_without_htmx_leads_to_the_support_page(client, campaign):
    response = client.get("/support/widget")
    assert response.status_code == 303 and response.headers["Location"] == "/support"


def test_each_rendered_form_carries_a_new_key(client, campaign):
    assert form_of(client)["key"] != form_of(client)["key"]


def test_without_a_campaign_the_widget_is_an_empty_hidden_aside(client):
    response = widget(client)
    assert response.status_code == 200
    assert text_of(response).strip() == '<aside id="support-widget" hidden></aside>'
    page = client.get("/support")
    assert page.status_code == 200
    assert "There is no supporter campaign right now." in text_of(page)
    assert client.get("/support/progress", headers=HTMX).status_code == 204


def test_the_support_page_carries_the_widget_without_javascript(client, campaign):
    page = text_of(client.get("/support"))
    assert "<html" in page and page.count('id="support-widget"') == 1
    assert 'hx-trigger="load"' not in page  # the widget itself, not the placeholder
    assert "data-focus-on-arrival" not in page  # no pledge waiting: focus stays where the browser puts it
    assert "Goal: 1,000 supporters" in page and 'action="/support/pledge"' in page


# --- the compact ask above an answer -----------------------------------------------------------

def ids(text: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', text)


def test_an_answer_page_ships_a_lazy_compact_ask_above_the_question(demo, client, campaign):
    page = text_of(client.get(SKY))
    top = part(page, '<aside id="top-support-widget"', "</aside>")
    assert page.index(top) < page.index("<h1>")  # before the question
    assert 'hx-get="/support/widget?at=top"' in top and 'hx-trigger="load"' in top and "Loading…" in top
    assert ("/support", "Support Plumb: see our goal and pledge") in links(top)  # without JavaScript
    assert page.count('id="support-widget"') == 1  # the full widget stays at the foot
    assert "Goal:" not in page  # neither is rendered into the page: both are per reader


def test_the_compact_ask_is_the_headline_the_bar_and_a_support_button(client, campaign):
    response = widget(client, at="top")
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert text.strip().startswith('<aside id="top-support-widget" class="support-widget is-compact support-top"')
    assert """hx-vals='{"at": "top"}'""" in text  # everything it asks for comes back for the top
    assert '<strong id="top-support-heading">Keep Plumb independent</strong>' in text
    assert "Readers pay for the research" in text and "Goal: 1,000 supporters" in text
    assert bar(text)["aria-labelledby"] == "top-support-count"
    assert "No supporters yet — be the first" in text
    assert 'action="/support/pledge"' not in text  # compact: the form opens on request
    support = re.search(r'<a href="/support" role="button" hx-get="/support/widget\?full=1"[^>]*>Support', text)
    assert support, "no Support button that opens the form in place (and leads to /support without JavaScript)"
    assert all(i.startswith("top-") for i in ids(text))


def test_support_opens_the_full_form_at_the_top_with_ids_of_its_own(demo, client, campaign):
    top = text_of(widget(client, at="top", full=1))
    foot = text_of(widget(client))
    assert top.strip().startswith('<aside id="top-support-widget" class="support-widget is-ask support-top"')
    assert 'action="/support/pledge"' in top and "Continue</button>" in top
    assert field(top, "key") != field(foot, "key")
    page_ids = ids(text_of(client.get(SKY))) + ids(top) + ids(foot)
    page_ids = [i for i in page_ids if i not in ("top-support-widget", "support-widget")]  # the placeholders, replaced
    assert len(page_ids) == len(set(page_ids)), sorted(i for i in page_ids if page_ids.count(i) > 1)
    # Inline login at the top: the accounts form gets ids of its own too.
    form = {"csrf_token": field(top, "csrf_token"), "key": field(top, "key"), "amount": "500", "frequency": "once"}
    login = text_of(client.post("/support/pledge", data={**form, "at": "top"}, headers=HTMX))
    assert login.strip().startswith('<aside id="top-support-widget"') and 'id="top-email"' in login
    assert 'for="top-email"' in login and 'id="email"' not in login


def test_the_top_bar_polls_its_own_bar(client, campaign):
    response = client.get("/support/progress?at=top", headers=HTMX)
    text = text_of(response)
    assert response.status_code == 200 and text.strip().startswith('<div id="top-support-progress"')
    assert bar(text)["id"] == "top-support-bar" and "public" in response.headers["Cache-Control"]
    assert 'id="support-progress"' in text_of(client.get("/support/progress", headers=HTMX))


@pytest.mark.parametrize("fields", [dict(ended_at="now"), dict(starts_at="future")])
def test_no_compact_ask_when_the_campaign_takes_no_pledges(app, client, fields):
    now = utcnow()
    values = {"ended_at": now, "starts_at": now + dt.timedelta(days=3)}
    make_campaign(app, **{name: values[name] for name in fields})
    assert text_of(widget(client, at="top")).strip() == '<aside id="top-support-widget" hidden></aside>'
    assert "This campaign" in text_of(widget(client))  # the foot still says why


def test_no_compact_ask_without_a_campaign(client):
    assert text_of(widget(client, at="top")).strip() == '<aside id="top-support-widget" hidden></aside>'


# --- not on the account pages ------------------------------------------------------------

def test_the_widget_is_not_on_the_login_register_or_account_pages(app, client, campaign):
    for url in ("/login", "/register", "/about"):
        page = text_of(client.get(url))
        assert ("support-widget" in page) is (url == "/about"), url
        assert page.count("Continue</button>") == 0
    sign_in(app, client)
    assert "support-widget" not in text_of(client.get("/account"))
    assert 'id="support-widget"' in text_of(client.get("/support/mine"))


# --- a supporter is thanked, not asked again ---------------------------------------------------

def test_a_supporter_sees_thank_you_with_the_bar_at_the_top_and_the_foot(app, reader, client):
    assert "is-ask" in text_of(widget(client)) and "is-compact" in text_of(widget(client, at="top"))
    response = post_pledge(client)
    assert response.headers["HX-Trigger-After-Settle"] == "support-changed"
    for place, prefix in ((None, ""), ("top", "top-")):
        text = text_of(widget(client, at=place) if place else widget(client))
        assert f'<strong id="{prefix}support-heading">Thank you for supporting Plumb</strong>' in text
        assert "is-thanked" in text and 'action="/support/pledge"' not in text
        count = re.search(rf'id="{prefix}support-count"[^>]*>(.*?)</p>', text, re.S).group(1)
        assert bar(text)["value"] == "1" and " ".join(count.split()) == "1 of 1,000 supporters · 0%"
        assert ("/support/mine", "Your pledges") in links(text)
    assert 'action="/support/pledge"' in text_of(widget(client, full=1))  # pledging again stays possible
    assert "is-ask" in text_of(widget(app.test_client()))  # only the supporter is thanked
    [row] = pledge_rows(app)
    cancel(client, row.reference)
    assert "is-ask" in text_of(widget(client)) and "is-compact" in text_of(widget(client, at="top"))


def test_widgets_at_rest_reload_when_the_readers_support_changes(app, reader, client):
    for text in (text_of(widget(client)), text_of(widget(client, at="top"))):
        assert 'hx-get="/support/widget" hx-trigger="support-changed from:body"' in text
    thanks = text_of(post_pledge(client))
    assert "support-changed" not in thanks  # the thank-you stays until the reader moves on


@pytest.mark.parametrize("n, words", [(0, "No supporters yet — be the first"),
                                      (1, "1 supporter so far — be the next"),
                                      (2, "2 supporters so far — be the next"),
                                      (1234, "1,234 supporters so far — be the next")])
def test_the_count_in_words_invites_the_next_supporter(app, client, n, words):
    make_campaign(app, goal_offset=n)
    text = text_of(widget(client))
    assert re.search(r'<p class="support-so-far">(.*?)</p>', text).group(1) == words
    assert bar(text)["class"] == "support-bar"  # support.css gives a started bar a visible first mark


def test_an_amount_goal_in_words(app, client):
    make_campaign(app, goal_kind="amount", goal=50_000, goal_offset=1_250)
    assert "$12.50 pledged so far — add yours" in text_of(widget(client))


# --- campaign states -------------------------------------------------------------------------

def test_a_reached_goal_is_celebrated_and_still_takes_pledges(app, auth, client):
    make_campaign(app, goal=10, goal_offset=4, supporters=6)
    auth.register()
    assert auth.login().status_code == 303  # the real login form, once
    text = text_of(widget(client))
    assert "We reached our goal — thank you! You can still support us" in text
    assert count_line(text) == "10 of 10 supporters · 100%"
    response = post_pledge(client)
    assert response.status_code == 200 and "Thank you" in text_of(response)
    assert count_line(text_of(response)) == "11 of 10 supporters · 110%"
    assert bar(text_of(response))["value"] == "10" and bar(text_of(response))["max"] == "10"
    assert counters(app) == (7, 1000)


@pytest.mark.parametrize("fields, says", [
    (dict(ended_at="now"), "This campaign has ended."),
    (dict(deadline="past"), "This campaign has ended."),
    (dict(starts_at="future"), "This campaign starts on"),
])
@pytest.mark.parametrize("htmx", [True, False])
def test_a_campaign_not_running_shows_no_form_and_refuses_pledges(app, client, fields, says, htmx):
    now = utcnow()
    values = {"ended_at": now, "deadline": now - dt.timedelta(minutes=1), "starts_at": now + dt.timedelta(days=3)}
    make_campaign(app, **{name: values[name] for name in fields})
    sign_in(app, client)
    shown = get(client, "/support/widget", fragment=True) if htmx else client.get("/support")
    text = text_of(shown)
    assert shown.status_code == 200 and says in text
    assert 'action="/support/pledge"' not in text and 'name="key"' not in text
    if "ended" in says:
        assert "Time left" not in text
    response = post_pledge(client, form={"csrf_token": token(client), "key": pledge_service.new_key()}, htmx=htmx)
    assert response.status_code == 409
    assert "This campaign is not taking pledges now." in text_of(response)
    assert ("<html" in text_of(response)) is not htmx
    assert pledge_rows(app) == [] and counters(app) == (0, 0)


@pytest.mark.parametrize("left, shown, last_days", [
    (dt.timedelta(days=30, minutes=5), "Time left: 30 days", False),
    (dt.timedelta(days=7, minutes=5), "Time left: 7 days", False),
    (dt.timedelta(days=6, hours=23), "Time left: 6 days", True),
    (dt.timedelta(days=3, minutes=5), "Time left: 3 days", True),
])
def test_time_left_and_last_days(app, client, left, shown, last_days):
    make_campaign(app, deadline=utcnow() + left)
    text = text_of(widget(client))
    assert shown in text
    assert ("Last days!" in text) is last_days


def test_no_deadline_no_time_left(app, client):
    make_campaign(app, deadline=None)
    assert "Time left" not in text_of(widget(client))


def test_an_amount_goal_counts_amounts_with_its_offset(app, client):
    make_campaign(app, goal_kind="amount", goal=50_000, goal_offset=5_000)
    text = text_of(widget(client))
    assert "Goal: $500" in text
    assert count_line(text) == "$50 of $500 · 10%"
    sign_in(app, client)
    post_pledge(client, amount="2500")
    post_pledge(client, amount="custom", custom_amount="12.50")
    assert progress_line(client) == "$87.50 of $500 · 17%"
    assert bar(text_of(widget(client)))["value"] == "8750"
    assert counters(app) == (1, 3750)


def test_a_supporter_offset_is_counted(app, reader, client):
    with app.app_context():
        db.session.get(Campaign, reader).goal_offset = 250
        db.session.commit()
    assert count_line(text_of(widget(client))) == "250 of 1,000 supporters · 25%"
    post_pledge(client)
    assert progress_line(client) == "251 of 1,000 supporters · 25%"
    assert counters(app) == (1, 1000)


# --- pledging while logged out: inline login and register --------------------------------------

CHOICE = {"amount": "custom", "custom_amount": "12.50", "frequency": "monthly",
          "public_name": "Ada L.", "message": "For the sources!"}


def choose_while_logged_out(client) -> str:
    """Fill in the form logged out; returns the form's key."""
    form = form_of(client)
    response = client.post("/support/pledge", data={**form, **CHOICE}, headers=HTMX)
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert "To pledge $12.50 every month, log in or create an account. Your choices are kept." in text
    assert 'hx-post="/support/login"' in text and 'name="password"' in text
    assert 'action="/support/pledge"' not in text
    return form["key"]


def assert_form_kept(text: str, key: str) -> None:
    assert "<html" not in text and 'action="/support/pledge"' in text
    assert "Pledge</button>" in text  # logged in now
    assert checked(text, "amount") == "custom" and field(text, "custom_amount") == "12.50"
    assert checked(text, "frequency") == "monthly"
    assert field(text, "public_name") == "Ada L."
    assert re.search(r"<textarea[^>]*>For the sources!</textarea>", text)
    assert field(text, "key") == key


def test_logging_in_inline_brings_back_the_same_choices_and_key(app, client, campaign):
    make_user(app)
    key = choose_while_logged_out(client)
    assert pledge_rows(app) == []
    response = client.post("/support/login", headers=HTMX, data={
        "email": "reader@example.org", "password": PASSWORD, "csrf_token": token(client)})
    assert response.status_code == 200
    text = text_of(response)
    assert "You are logged in as Rea Der." in text
    assert_form_kept(text, key)
    assert re.search(r'id="account-nav"[^>]*hx-swap-oob="true"', text) and ("/account", "Rea Der") in links(text)
    # The widget loaded again shows the same pending pledge.
    assert field(text_of(widget(client)), "key") == key
    confirm = client.post("/support/pledge", headers=HTMX, data={"csrf_token": field(text, "csrf_token"),
                                                                  "key": key, **CHOICE})
    assert confirm.status_code == 200 and "Thank you, Ada L.!" in text_of(confirm)
    assert counters(app) == (1, 1250)
    # The draft is used up: the next form has a fresh key and the default choice.
    after = text_of(widget(client, full=1))
    assert field(after, "key") != key and checked(after, "amount") == "1000"


def test_registering_inline_brings_back_the_same_choices_and_key(app, client, campaign):
    key = choose_while_logged_out(client)
    join = client.get("/support/join?as=new", headers=HTMX)
    assert 'hx-post="/support/register"' in text_of(join) and "To pledge $12.50 every month" in text_of(join)
    response = client.post("/support/register", headers=HTMX, data={
        "email": "new@example.org", "display_name": "New Reader", "password": PASSWORD,
        "csrf_token": token(client)})
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert "Check your inbox at <strong>new@example.org</strong>: we sent a link to finish." in text
    assert "your pledge will be waiting, with your choices kept" in text
    # Not logged in until the address is confirmed: pledging still asks to log in.
    assert client.get("/support/mine").status_code == 302
    assert 'hx-post="/support/login"' in text_of(post_pledge(client, form=form_of_draft(client), **CHOICE))
    assert pledge_rows(app) == []
    # The link in the mail confirms, logs in and comes back to the pledge, choices and key kept.
    link = re.search(r"https://plumb\.example(/register/confirm/\S+)", app.extensions["mail"].sent[-1].text).group(1)
    button = text_of(client.get(link))
    confirmed = client.post(link, data={"csrf_token": field(button, "csrf_token")})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/support#support-widget"
    assert client.get("/support/mine").status_code == 200  # logged in
    assert_form_kept(text_of(widget(client)), key)
    # There, the Pledge button is where the reader continues: it takes focus.
    assert re.search(r'<button type="submit"[^>]*\bdata-focus-on-arrival\b[^>]*>Pledge</button>',
                     text_of(client.get("/support")))


def form_of_draft(client) -> dict[str, str]:
    """The csrf token and key of the pledge waiting in the session (the widget is not showing its form)."""
    with client.session_transaction() as session:
        return {"csrf_token": token(client), "key": session["pledge_draft"]["key"]}


def test_a_wrong_password_inline_is_a_401_in_the_widget_with_the_choice_kept(app, client, campaign):
    make_user(app)
    choose_while_logged_out(client)
    response = client.post("/support/login", headers=HTMX, data={
        "email": "reader@example.org", "password": PASSWORD + "x", "csrf_token": token(client)})
    text = text_of(response)
    assert response.status_code == 401 and "<html" not in text
    assert "That email address and password do not match an account." in text
    assert "To pledge $12.50 every month" in text and 'hx-post="/support/login"' in text
    assert client.get("/support/mine").status_code == 302  # still logged out


def test_an_inline_register_with_a_weak_password_is_refused_in_the_widget(app, client, campaign):
    choose_while_logged_out(client)
    response = client.post("/support/register", headers=HTMX, data={
        "email": "new@example.org", "display_name": "New Reader", "password": "short", "csrf_token": token(client)})
    assert response.status_code == 422 and "<html" not in text_of(response)
    assert 'class="field-error"' in text_of(response) and "To pledge $12.50 every month" in text_of(response)


@pytest.mark.parametrize("url, data", [
    ("/support/login", {"email": "reader@example.org", "password": PASSWORD}),
    ("/support/register", {"email": "new@example.org", "display_name": "New Reader", "password": PASSWORD}),
])
def test_inline_login_and_register_without_a_csrf_token_are_refused_in_the_widget(app, client, campaign, url, data):
    make_user(app)
    choose_while_logged_out(client)
    response = client.post(url, data={**data, "csrf_token": "wrong"}, headers=HTMX)
    assert response.status_code == 400 and "<html" not in text_of(response)
    assert "security token is missing or wrong" in text_of(response)
    assert client.get("/support/mine").status_code == 302  # not logged in
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1  # nobody registered


def test_logged_out_without_javascript_the_pledge_goes_through_the_login_page(app, client, campaign):
    make_user(app)
    form = form_of(client)
    response = client.post("/support/pledge", data={**form, **CHOICE})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/support")
    login = client.post(response.headers["Location"], data={
        "email": "reader@example.org", "password": PASSWORD, "csrf_token": token(client)})
    assert login.status_code == 303 and login.headers["Location"].startswith("/support")
    assert_form_kept(text_of(client.get("/support/widget", headers=HTMX)), form["key"])
    assert pledge_rows(app) == []


# --- pledging while logged in --------------------------------------------------------------

def test_a_pledge_says_thank_you_in_place_and_the_counts_move(app, reader, client):
    response = post_pledge(client, public_name="Ada", message="Keep going")
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert response.headers["HX-Trigger"] == "pledged"
    assert "Thank you, Ada!" in text and "Your pledge of $10 one time" in text
    assert count_line(text) == "1 of 1,000 supporters · 0%"
    assert progress_line(client) == "1 of 1,000 supporters · 0%"
    assert counters(app) == (1, 1000)
    [row] = pledge_rows(app)
    assert (row.amount_cents, row.frequency, row.public_name, row.message) == (1000, "once", "Ada", "Keep going")
    for fragment in (False, True):
        mine = get(client, "/support/mine", fragment=fragment)
        assert mine.status_code == 200 and ("<html" in text_of(mine)) is not fragment
        assert f'id="pledge-{row.reference}"' in text_of(mine) and "$10 one time" in text_of(mine)


def test_without_javascript_a_pledge_leads_to_my_support(app, reader, client):
    response = post_pledge(client, amount="2500", frequency="monthly", htmx=False)
    [row] = pledge_rows(app)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/support/mine#pledge-{row.reference}"
    mine = text_of(client.get(response.headers["Location"]))
    assert "Thank you! Your pledge of $25 every month is recorded." in mine
    assert "$25 every month" in part(mine, f'<li id="pledge-{row.reference}"', "</li>")
    assert counters(app) == (1, 2500)


@pytest.mark.parametrize("htmx", [True, False])
def test_the_same_key_twice_is_one_pledge_with_the_same_answer(app, reader, client, htmx):
    form = form_of(client)
    first = post_pledge(client, form=form, htmx=htmx, public_name="Ada")
    again = post_pledge(client, form=form, htmx=htmx, public_name="Ada")
    assert first.status_code == again.status_code
    if htmx:
        assert "Thank you, Ada! Your pledge of $10 one time" in re.sub(r"\s+", " ", text_of(again))
        assert "counted once" in text_of(again)
    else:
        assert first.headers["Location"] == again.headers["Location"]
    assert len(pledge_rows(app)) == 1 and counters(app) == (1, 1000)


def test_the_same_key_with_a_different_amount_is_a_409_and_changes_nothing(app, reader, client):
    form = form_of(client)
    post_pledge(client, form=form)
    for change in (dict(amount="2500"), dict(frequency="monthly")):
        response = post_pledge(client, form=form, **change)
        assert response.status_code == 409
        assert "already used for a different pledge" in text_of(response)
        assert "<html" not in text_of(response)
    [row] = pledge_rows(app)
    assert (row.amount_cents, row.frequency) == (1000, "once") and counters(app) == (1, 1000)


def test_another_account_cannot_reuse_a_key(app, reader, client):
    form = form_of(client)
    post_pledge(client, form=form)
    other, _ = log_in_other(app)
    response = other.post("/support/pledge", headers=HTMX,
                          data={"csrf_token": token(other), "key": form["key"], "amount": "1000", "frequency": "once"})
    assert response.status_code == 409
    assert len(pledge_rows(app)) == 1 and counters(app) == (1, 1000)


BAD_CHOICES = {
    "amount 0.99": (dict(amount="custom", custom_amount="0.99"), "Choose an amount from $1 to $10,000."),
    "amount 10000.01": (dict(amount="custom", custom_amount="10000.01"), "Choose an amount from $1 to $10,000."),
    "amount abc": (dict(amount="custom", custom_amount="abc"), "Enter an amount in dollars and cents"),
    "amount 1e3": (dict(amount="custom", custom_amount="1e3"), "Enter an amount in dollars and cents"),
    "amount -5": (dict(amount="custom", custom_amount="-5"), "Enter an amount in dollars and cents"),
    "amount 5.555": (dict(amount="custom", custom_amount="5.555"), "Enter an amount in dollars and cents"),
    "amount in full-width digits": (dict(amount="custom", custom_amount="\uff11\uff12"), "Enter an amount in dollars"),
    "empty custom amount": (dict(amount="custom", custom_amount=""), "Enter an amount in dollars and cents"),
    "preset not offered": (dict(amount="700"), "Choose an amount."),
    "preset in other digits": (dict(amount="\u0665\u0660\u0660"), "Choose an amount."),
    "preset of a million": (dict(amount="100000000"), "Choose an amount."),
    "missing amount": (dict(amount=None), "Choose an amount."),
    "weekly": (dict(frequency="weekly"), "Choose one-time or monthly."),
    "missing key": (dict(key=None), "missing its pledge number"),
    "short key": (dict(key="abc123"), "missing its pledge number"),
    "long key": (dict(key="k" * 65), "missing its pledge number"),
    "key with odd characters": (dict(key="abcdefgh/ijklmnop"), "missing its pledge number"),
    "key with a newline": (dict(key="abcdefghijklmnop\n"), "missing its pledge number"),
    "message of 281": (dict(message="m" * 281), "Keep your message to 280 characters"),
    "public name of 81": (dict(public_name="n" * 81), "Use at most 80 characters for your public name."),
}


@pytest.mark.parametrize("change, says", BAD_CHOICES.values(), ids=BAD_CHOICES.keys())
def test_a_bad_choice_is_a_clear_422_and_changes_nothing(app, reader, client, change, says):
    form = form_of(client)
    data = {**form, "amount": "1000", "frequency": "once", **change}
    response = client.post("/support/pledge", headers=HTMX, data={k: v for k, v in data.items() if v is not None})
    text = text_of(response)
    assert response.status_code == 422 and "<html" not in text
    assert "Please check the form:" in text and says in text
    assert 'action="/support/pledge"' in text  # the form comes back to be corrected
    assert pledge_rows(app) == [] and counters(app) == (0, 0)


@pytest.mark.parametrize("htmx", [True, False])
def test_a_bad_choice_without_javascript_is_a_422_page(app, reader, client, htmx):
    response = post_pledge(client, amount="custom", custom_amount="0.50", htmx=htmx)
    assert response.status_code == 422 and ("<html" in text_of(response)) is not htmx
    assert "Choose an amount from $1 to $10,000." in text_of(response)
    assert field(text_of(response), "custom_amount") == "0.50"
    assert pledge_rows(app) == []


@pytest.mark.parametrize("csrf", [None, "wrong"])
@pytest.mark.parametrize("htmx", [True, False])
def test_a_pledge_without_a_good_csrf_token_is_a_400_and_changes_nothing(app, reader, client, csrf, htmx):
    form = {**form_of(client), "csrf_token": csrf}
    response = post_pledge(client, form=form, htmx=htmx)
    assert response.status_code == 400
    assert "security token is missing or wrong" in text_of(response)
    assert ("<html" in text_of(response)) is not htmx
    assert pledge_rows(app) == [] and counters(app) == (0, 0)


@pytest.mark.parametrize("typed, cents", [("1", 100), ("10000", 1_000_000), ("12.50", 1250), ("1,000", 100_000),
                                          ("$7.5", 750)])
def test_custom_amounts_are_taken_in_whole_cents(app, reader, client, typed, cents):
    response = post_pledge(client, amount="custom", custom_amount=typed)
    assert response.status_code == 200 and "Thank you" in text_of(response)
    [row] = pledge_rows(app)
    assert row.amount_cents == cents and counters(app) == (1, cents)


def test_a_typed_amount_wins_over_a_preset_left_checked(app, reader, client):
    # Without :has() support the "Other amount" box shows even when a preset is on.
    response = post_pledge(client, amount="1000", custom_amount="15")
    assert "Your pledge of $15" in text_of(response)
    assert [row.amount_cents for row in pledge_rows(app)] == [1500]


def test_names_and_messages_are_kept_as_plain_text_and_shown_escaped(app, reader, client):
    post_pledge(client, public_name="Mallory\u202eevil\x07", message='<script>alert("x")</script> & <b>bold</b>')
    [row] = pledge_rows(app)
    assert "\u202e" not in row.public_name and "\x07" not in row.public_name
    assert row.public_name.startswith("Mallory") and row.public_name.rstrip().endswith("evil")
    for url in ("/support", "/support/mine"):
        page = text_of(client.get(url))
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
        assert "<script>alert" not in page and "<b>bold" not in page
        assert "\u202e" not in page


def test_a_pledge_is_the_same_with_a_message_of_exactly_280_and_a_name_of_80(app, reader, client):
    response = post_pledge(client, public_name="n" * 80, message="m" * 280)
    assert response.status_code == 200
    [row] = pledge_rows(app)
    assert (len(row.public_name), len(row.message)) == (80, 280)


# --- cancelling on /support/mine ----------------------------------------------------------

def cancel(client, reference, htmx=False, csrf=True, confirm="yes"):
    """"Yes, cancel it": the form the confirmation step shows."""
    data = {"csrf_token": token(client)} if csrf else {}
    if confirm is not None:
        data["confirm"] = confirm
    return client.post(f"/support/pledges/{reference}/cancel", data=data, headers=HTMX if htmx else {})


def test_cancelling_takes_the_pledge_out_of_the_count_at_once(app, reader, client):
    post_pledge(client, amount="2500")
    [row] = pledge_rows(app)
    mine = text_of(client.get("/support/mine"))
    assert f'action="/support/pledges/{row.reference}/cancel"' in mine
    response = cancel(client, row.reference)
    assert response.status_code == 303 and response.headers["Location"] == f"/support/mine#pledge-{row.reference}"
    assert counters(app) == (0, 0)
    assert progress_line(client) == "0 of 1,000 supporters · 0%"
    page = text_of(client.get("/support/mine"))
    assert "Your pledge is cancelled." in page and "it no longer counts" in page
    assert f'action="/support/pledges/{row.reference}/cancel"' not in page
    # Twice: nothing more changes.
    again = cancel(client, row.reference)
    assert again.status_code == 303
    assert "That pledge was cancelled already." in text_of(client.get("/support/mine"))
    assert counters(app) == (0, 0) and consistent(app)


def test_cancelling_with_htmx_swaps_the_row_and_refreshes_the_bar(app, reader, client):
    post_pledge(client)
    [row] = pledge_rows(app)
    response = cancel(client, row.reference, htmx=True)
    text = text_of(response)
    assert response.status_code == 200 and "<html" not in text
    assert response.headers["HX-Trigger"] == "pledged"
    assert text.strip().startswith(f'<li id="pledge-{row.reference}" class="pledge-row is-cancelled"')
    assert 'role="status"' in text and "it no longer counts" in text and "Cancel this pledge" not in text
    assert counters(app) == (0, 0)
    second = cancel(client, row.reference, htmx=True)
    assert second.status_code == 200 and 'role="status"' not in text_of(second)
    assert counters(app) == (0, 0) and consistent(app)


@pytest.mark.parametrize("htmx", [True, False])
def test_cancelling_someone_elses_or_no_pledge_is_a_404(app, reader, client, htmx):
    post_pledge(client)
    [row] = pledge_rows(app)
    other, _ = log_in_other(app)
    assert cancel(other, row.reference, htmx=htmx).status_code == 404
    assert cancel(client, pledge_service.new_key(), htmx=htmx).status_code == 404
    assert cancel(client, row.id, htmx=htmx).status_code == 404  # its number is no address
    assert cancel(client, "x%00'", htmx=htmx).status_code == 404
    assert pledge_rows(app)[0].status == "active" and counters(app) == (1, 1000)


@pytest.mark.parametrize("htmx", [True, False])
def test_no_address_or_page_tells_how_many_pledges_there_are(app, reader, client, htmx):
    thanks = post_pledge(client, htmx=htmx)
    [row] = pledge_rows(app)
    mine = text_of(client.get("/support/mine"))
    shown = " ".join([thanks.headers.get("Location", ""), text_of(thanks), mine])
    assert f"pledge-{row.reference}" in mine
    assert not re.search(rf"pledges/{row.id}(?![\w-])|pledge-{row.id}(?![\w-])", shown)  # references may start "1-"


@pytest.mark.parametrize("htmx", [True, False])
def test_cancelling_without_a_csrf_token_is_a_400(app, reader, client, htmx):
    post_pledge(client)
    [row] = pledge_rows(app)
    response = cancel(client, row.reference, htmx=htmx, csrf=False)
    assert response.status_code == 400 and "security token is missing or wrong" in text_of(response)
    assert pledge_rows(app)[0].status == "active" and counters(app) == (1, 1000)


@pytest.mark.parametrize("htmx", [True, False])
def test_my_support_and_cancelling_need_a_login(app, client, campaign, htmx):
    headers = HTMX if htmx else {}
    for response in (client.get("/support/mine", headers=headers),
                     client.post("/support/pledges/1/cancel", data={"csrf_token": token(client)}, headers=headers)):
        if htmx:
            assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_my_support_without_pledges_says_so(app, reader, client):
    assert "You have no pledges yet." in text_of(client.get("/support/mine"))


# --- cancelling asks first ---------------------------------------------------------------

def test_my_support_asks_before_cancelling_without_javascript(app, reader, client):
    post_pledge(client, amount="2500")
    [row] = pledge_rows(app)
    url = f"/support/pledges/{row.reference}/cancel"
    mine = part(text_of(client.get("/support/mine")), f'<li id="pledge-{row.reference}"', "</li>")
    assert re.search(rf'<form method="get" action="{url}"', mine) and "Cancel this pledge</button>" in mine
    assert 'method="post"' not in mine  # one press alone cancels nothing
    asked = client.get(url)
    page = text_of(asked)
    assert asked.status_code == 200 and "<html" in page
    assert asked.headers["Cache-Control"] == "private, no-store"
    assert "Cancel this pledge of $25 one time?" in page
    question = part(page, f'<li id="pledge-{row.reference}"', "</li>")
    assert re.search(rf'<form method="post" action="{url}"', question)
    assert field(question, "confirm") == "yes" and field(question, "csrf_token")
    assert (f"/support/mine#pledge-{row.reference}", "No, keep it") in links(question)
    assert counters(app) == (1, 2500) and pledge_rows(app)[0].status == "active"  # asking changed nothing
    done = client.post(url, data={"csrf_token": field(question, "csrf_token"), "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == f"/support/mine#pledge-{row.reference}"
    assert "Your pledge is cancelled." in text_of(client.get("/support/mine"))
    assert counters(app) == (0, 0) and consistent(app)


def test_with_htmx_the_question_and_the_answer_replace_the_row(app, reader, client):
    post_pledge(client)
    [row] = pledge_rows(app)
    asked = client.get(f"/support/pledges/{row.reference}/cancel", headers=HTMX)
    text = text_of(asked)
    assert asked.status_code == 200 and "<html" not in text
    assert text.strip().startswith(f'<li id="pledge-{row.reference}" class="pledge-row is-active"')
    assert text.strip().endswith("</li>")
    assert f'hx-post="/support/pledges/{row.reference}/cancel"' in text and "Yes, cancel it" in text
    # "No, keep it" brings the row back from My support, in place.
    assert f'hx-get="/support/mine" hx-select="#pledge-{row.reference}"' in text
    question = re.search(r'<p class="pledge-confirm"[^>]*>', text).group(0)
    assert 'tabindex="-1"' in question and "data-focus-here" in question  # focus goes to the question
    assert counters(app) == (1, 1000)
    done = cancel(client, row.reference, htmx=True)
    assert done.headers["HX-Trigger-After-Settle"] == "support-changed"  # the widgets on the page reload
    status = re.search(r'<p class="pledge-status"[^>]*>', text_of(done)).group(0)
    assert 'role="status"' in status and 'tabindex="-1"' in status and "data-focus-here" in status
    assert counters(app) == (0, 0) and consistent(app)


@pytest.mark.parametrize("confirm", [None, "", "no", "YES", "yes please"])
@pytest.mark.parametrize("htmx", [True, False])
def test_a_cancel_without_the_confirmation_asks_again_and_changes_nothing(app, reader, client, confirm, htmx):
    post_pledge(client)
    [row] = pledge_rows(app)
    response = cancel(client, row.reference, htmx=htmx, confirm=confirm)
    text = text_of(response)
    assert response.status_code == 422 and ("<html" in text) is not htmx
    assert "Nothing was cancelled" in text and "Yes, cancel it" in text
    assert "HX-Trigger" not in response.headers
    assert pledge_rows(app)[0].status == "active" and counters(app) == (1, 1000) and consistent(app)


@pytest.mark.parametrize("htmx", [True, False])
def test_the_question_for_someone_elses_pledge_is_a_404(app, reader, client, htmx):
    post_pledge(client)
    [row] = pledge_rows(app)
    other, _ = log_in_other(app)
    assert get(other, f"/support/pledges/{row.reference}/cancel", fragment=htmx).status_code == 404
    assert get(client, f"/support/pledges/{pledge_service.new_key()}/cancel", fragment=htmx).status_code == 404


def test_asking_about_a_cancelled_pledge_says_it_is_cancelled(app, reader, client):
    post_pledge(client)
    [row] = pledge_rows(app)
    cancel(client, row.reference)
    text = text_of(client.get(f"/support/pledges/{row.reference}/cancel"))
    assert "it no longer counts" in text and "Yes, cancel it" not in text


# --- supporters are distinct accounts ---------------------------------------------------------

def test_two_pledges_by_one_account_are_one_supporter_and_both_amounts(app, reader, client):
    post_pledge(client, amount="1000")
    post_pledge(client, amount="custom", custom_amount="40")
    assert counters(app) == (1, 5000)
    assert progress_line(client) == "1 of 1,000 supporters · 0%"
    other, _ = log_in_other(app)
    post_pledge(other, amount="500")
    assert counters(app) == (2, 5500)
    first, second, _ = pledge_rows(app)
    cancel(client, first.reference)
    assert counters(app) == (2, 4500)
    cancel(client, second.reference)
    assert counters(app) == (1, 500)
    assert progress_line(client) == "1 of 1,000 supporters · 0%"
    assert consistent(app)


# --- /support/progress: polled with ETag / 304 ----------------------------------------------------

def test_progress_answers_304_while_nothing_changes_and_a_new_etag_after_a_pledge(app, reader, client):
    first = client.get("/support/progress", headers=HTMX)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and "<html" not in text_of(first)
    assert "no-cache" in first.headers["Cache-Control"]
    assert 'hx-trigger="every 15s, pledged from:body"' in text_of(first)
    same = client.get("/support/progress", headers={**HTMX, "If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b"" and same.headers["ETag"] == etag
    post_pledge(client)
    changed = client.get("/support/progress", headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert count_line(text_of(changed)) == "1 of 1,000 supporters · 0%"
    # Another browser polling sees the pledge too.
    assert progress_line(app.test_client()) == "1 of 1,000 supporters · 0%"


def test_progress_without_htmx_leads_to_the_support_page(client, campaign):
    response = client.get("/support/progress")
    assert response.status_code == 303 and response.headers["Location"] == "/support"


# --- dismissing the ask -------------------------------------------------------------------

def test_dismissing_keeps_the_widget_small_for_seven_days(client, campaign):
    response = client.post("/support/dismiss", data={"csrf_token": token(client)}, headers=HTMX)
    assert response.status_code == 200 and "<html" not in text_of(response)
    assert 'class="support-widget is-small"' in text_of(response)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("plumb_support=small;")
    assert "Max-Age=604800" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    small = text_of(widget(client))
    assert "is-small" in small and 'action="/support/pledge"' not in small
    assert "Goal: 1,000 supporters" in small  # the bar stays
    assert 'hx-get="/support/widget?full=1"' in small
    full = text_of(widget(client, full=1))
    assert "is-ask" in full and 'action="/support/pledge"' in full
    assert "is-ask" in text_of(widget(client.application.test_client()))  # only this browser


@pytest.mark.parametrize("referrer, back", [
    ("http://localhost/q/why-is-the-sky-blue?x=1", "http://localhost/q/why-is-the-sky-blue?x=1"),
    (None, "/"),
])
def test_dismissing_without_javascript_goes_back_to_a_page_of_this_site(client, campaign, referrer, back):
    headers = {"Referer": referrer} if referrer else {}
    response = client.post("/support/dismiss", data={"csrf_token": token(client)}, headers=headers)
    assert response.status_code == 303 and response.headers["Location"] == back
    assert "plumb_support=small" in response.headers["Set-Cookie"]


def test_dismissing_from_another_sites_page_is_refused_and_sets_no_cookie(client, campaign):
    headers = {"Referer": "https://evil.example/phish"}
    response = client.post("/support/dismiss", data={"csrf_token": token(client)}, headers=headers)
    assert response.status_code == 403 and "Location" not in response.headers
    assert not any("plumb_support" in c for c in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("htmx", [True, False])
def test_dismissing_without_a_csrf_token_is_a_400_and_sets_no_cookie(client, campaign, htmx):
    response = client.post("/support/dismiss", headers=HTMX if htmx else {})
    assert response.status_code == 400 and "security token is missing or wrong" in text_of(response)
    assert not any("plumb_support" in c for c in response.headers.getlist("Set-Cookie"))
    assert ("<html" in text_of(response)) is not htmx
    assert "is-ask" in text_of(widget(client))


# --- /support: the supporter wall and the chart ------------------------------------------------

def add_pledges(app, campaign_id, user_id, n, **fields) -> None:
    """`n` pledges through the service, a minute apart, the last one a minute ago."""
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        start = utcnow() - dt.timedelta(minutes=n + 1)
        for i in range(n):
            choice = Choice(amount_cents=500, frequency="once", key=pledge_service.new_key(),
                            public_name=fields.get("public_name", f"Supporter {i + 1}"),
                            message=fields.get("message", f"Message {i + 1}"))
            pledge_service.pledge(db.engine, campaign, user_id, choice, now=start + dt.timedelta(minutes=i))


def wall_names(text: str) -> list[str]:
    wall = part(text, '<section id="wall"')
    return [html.unescape(n) for n in re.findall(r"<li><strong>(.*?)</strong>", wall)]


def test_the_wall_shows_public_names_newest_first_without_anonymous_or_cancelled(app, reader, client):
    post_pledge(client, public_name="First", message="Early bird")
    post_pledge(client, message="nobody sees this")  # anonymous
    post_pledge(client, public_name="Cancelled Carl", message="changed my mind")
    post_pledge(client, public_name="Last", message="Late but here")
    carl = next(row for row in pledge_rows(app) if row.public_name == "Cancelled Carl")
    cancel(client, carl.reference)
    page = text_of(client.get("/support"))
    assert wall_names(page) == ["Last", "First"]
    wall = part(page, '<section id="wall"')
    assert "Late but here" in wall and "Early bird" in wall
    assert "nobody sees this" not in page and "changed my mind" not in page
    assert "Supporter wall pages" not in wall  # one page only


def test_the_wall_is_paginated_by_20_as_a_page_and_as_a_fragment(app, campaign, client):
    user = make_user(app)
    add_pledges(app, campaign, user, 25)
    first = text_of(client.get("/support"))
    assert wall_names(first) == [f"Supporter {n}" for n in range(25, 5, -1)]
    assert ("/support?page=2", "Older") in links(part(first, '<section id="wall"'))
    page_two = client.get("/support?page=2")
    assert page_two.status_code == 200 and "<html" in text_of(page_two)
    assert wall_names(text_of(page_two)) == [f"Supporter {n}" for n in range(5, 0, -1)]
    fragment = client.get("/support?page=2", headers=HTMX)
    text = text_of(fragment)
    assert fragment.status_code == 200 and "<html" not in text
    assert text.strip().startswith('<section id="wall"') and "Page 2 of 2" in text
    assert wall_names(text) == [f"Supporter {n}" for n in range(5, 0, -1)]
    assert ("/support?page=1", "Newer") in links(text)
    assert "Goal:" not in text  # only the wall


def test_a_long_wall_is_not_counted_past_its_cap_but_still_pages_to_its_end(app, campaign, client, monkeypatch):
    monkeypatch.setattr(supporter_wall, "WALL_COUNTED", 30)
    add_pledges(app, campaign, make_user(app), 45)
    first = part(text_of(client.get("/support")), '<section id="wall"')
    assert "Page 1</li>" in first and "Page 1 of" not in first
    assert wall_names(first) == [f"Supporter {n}" for n in range(45, 25, -1)]
    last = text_of(client.get("/support?page=3", headers=HTMX))
    assert wall_names(last) == [f"Supporter {n}" for n in range(5, 0, -1)]
    assert ("/support?page=2", "Newer") in links(last) and "Older" not in last
    assert get(client, "/support?page=4", fragment=True).status_code == 404


@pytest.mark.parametrize("query, status", [("page=3", 404), ("page=abc", 400), ("page=0", 400), ("page=-1", 400)])
@pytest.mark.parametrize("htmx", [True, False])
def test_wall_pages_that_do_not_exist(app, campaign, client, query, status, htmx):
    add_pledges(app, campaign, make_user(app), 21)
    assert get(client, f"/support?{query}", fragment=htmx).status_code == status


def chart_days(page: str) -> str:
    return html.unescape(re.search(r'<desc id="chart-desc">(.*?)</desc>', page, re.S).group(1))


def test_the_chart_starts_at_the_campaigns_start_also_with_no_supporters(app, client):
    today = utcnow().date()
    make_campaign(app, starts_at=utcnow() - dt.timedelta(days=10))
    page = text_of(client.get("/support"))
    chart = part(page, "<svg", "</svg>")
    assert 'role="img"' in chart and "<title id=\"chart-title\">Supporters over time</title>" in chart
    assert "<polyline" in chart
    started = today - dt.timedelta(days=10)
    assert chart_days(page) == f"From 0 on {started:%-d %B %Y} to 0 on {today:%-d %B %Y}."
    assert "Current supporters by the day they first pledged: 0 on" in page
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert all(re.search(r'src="/static/', tag) for tag in scripts)  # no inline or other hosts' scripts
    sign_in(app, client)
    post_pledge(client)
    page = text_of(client.get("/support"))
    assert chart_days(page) == f"From 0 on {started:%-d %B %Y} to 1 on {today:%-d %B %Y}."
    assert "Current supporters by the day they first pledged: 1 on" in page


def test_the_chart_reads_the_pledges_again_only_when_the_supporters_counter_moves(app, client):
    # Every view of /support grouped every active pledge by account: 250 ms with 200,000.
    from sqlalchemy import event

    make_campaign(app, starts_at=utcnow() - dt.timedelta(days=3))
    grouped = []

    def record(_connection, _cursor, statement, *_args):
        if "GROUP BY pledge.user_id" in statement:
            grouped.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        first = chart_days(text_of(client.get("/support")))
        assert chart_days(text_of(client.get("/support"))) == first and len(grouped) == 1
        sign_in(app, client)
        post_pledge(client)  # a new supporter: drawn again at once
        assert chart_days(text_of(client.get("/support"))).endswith(f"to 1 on {utcnow().date():%-d %B %Y}.")
        assert len(grouped) == 2
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)


def test_a_campaign_started_today_is_drawn_as_a_flat_line_across(app, client):
    make_campaign(app)
    chart = part(text_of(client.get("/support")), "<svg", "</svg>")
    points = re.search(r'<polyline class="line" points="([^"]*)"', chart).group(1).split()
    assert points == ["0.0,200.0", "600.0,200.0"]
    with app.app_context():  # before it starts there is nothing to draw yet
        db.session.scalars(select(Campaign)).one().starts_at = utcnow() + dt.timedelta(days=3)
        db.session.commit()
    assert "<svg" not in text_of(client.get("/support"))


# --- deleting an account -----------------------------------------------------------------

def test_a_deleted_account_stays_counted_but_leaves_the_wall(app, reader, client):
    post_pledge(client, public_name="Ada", message="Keep going")
    other, _ = log_in_other(app)
    post_pledge(other, public_name="Bea", message="Me too")
    assert wall_names(text_of(client.get("/support"))) == ["Bea", "Ada"]
    response = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token(client)})
    assert response.status_code == 303
    assert counters(app) == (2, 2000)
    assert progress_line(client) == "2 of 1,000 supporters · 0%"
    page = text_of(client.get("/support"))
    assert wall_names(page) == ["Bea"]
    assert "Ada" not in page and "Keep going" not in page
    assert consistent(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == "active")) == 2


# --- the pledge rate limit ---------------------------------------------------------------------

def test_pledges_over_the_limit_are_a_429_inside_the_widget_and_change_nothing(app, reader, client):
    app.config["PLEDGE_LIMIT"] = "2 per minute"
    for amount in ("500", "1000"):
        assert post_pledge(client, amount=amount).status_code == 200
    assert counters(app) == (1, 1500)
    refused = post_pledge(client, amount="2500")
    page = text_of(refused)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "<html" not in page and 'id="support-widget"' in page  # in the widget, not an error page
    assert "Too many attempts" in page
    assert counters(app) == (1, 1500) and len(pledge_rows(app)) == 2
    other, _ = log_in_other(app)  # the limit is per account: another reader still pledges
    assert post_pledge(other, amount="500").status_code == 200
