"""Readers ask for unanswered questions to be answered: once each, counted, listed."""
import re

import pytest
from sqlalchemy import func, select

from tests.pages import HTMX, csrf_token, form_token, links, part, text_of
from tests.readers import Auth, make_user
from webapp.graph.models import AnswerRequest
from webapp.extensions import db

OSTRICH = "/q/how-fast-can-an-ostrich-run"
COFFEE = "/q/is-drinking-coffee-dehydrating"


def token(client, url=OSTRICH) -> str:
    """The CSRF token the page's form carries (any unanswered page will do)."""
    page = text_of(client.get(url if url != "/about" else "/q/what-is-umami"))
    return form_token(page)


def ask(client, url=OSTRICH, htmx=True, csrf=True):
    data = {"csrf_token": token(client, url)} if csrf else {}
    return client.post(f"{url}/request", data=data, headers=HTMX if htmx else {})


def requests_in_db(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AnswerRequest))


def test_an_unanswered_page_offers_a_request_and_answers_that_may_help(demo, client):
    page = text_of(client.get(OSTRICH))
    widget = part(page, '<section id="request-answer"')
    assert "Nobody has asked for an answer yet." in widget
    assert '<button type="submit">Request an answer</button>' in widget
    helpful = part(page, '<section class="similar"')
    assert ("/q/ostriches-bury-heads", "Do ostriches bury their heads in the sand?") in links(helpful)


def test_a_request_is_counted_once_per_reader_and_updates_in_place(demo, client, app):
    first = ask(client)
    assert first.status_code == 200 and "<html" not in text_of(first)
    assert "1 reader asked for an answer." in text_of(first) and "Thank you" in text_of(first)
    assert "Request an answer</button>" not in text_of(first)
    # A double click or a retry: the same form posted again.
    again = client.post(f"{OSTRICH}/request", data={"csrf_token": token(client, "/about")}, headers=HTMX)
    assert "1 reader asked for an answer." in text_of(again) and "Your request is among them." in text_of(again)
    other_browser = app.test_client()
    assert "2 readers asked for an answer." in text_of(ask(other_browser))
    assert requests_in_db(demo) == 2


def test_a_logged_in_reader_is_counted_once_from_any_browser(demo, app):
    make_user(demo)
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        Auth(app, browser).login()
    assert "1 reader asked for an answer." in text_of(ask(laptop))
    on_phone = part(text_of(phone.get(OSTRICH)), '<section id="request-answer"')
    assert "Your request is among them." in on_phone and "Request an answer</button>" not in on_phone
    # The form still open in an old tab, posted from the phone: counted once.
    again = phone.post(f"{OSTRICH}/request", data={"csrf_token": csrf_token(phone)}, headers=HTMX)
    assert "1 reader asked for an answer." in text_of(again)
    assert requests_in_db(demo) == 1


def test_without_javascript_the_form_posts_and_comes_back(demo, client):
    response = ask(client, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{OSTRICH}#request-answer")
    assert "1 reader asked for an answer." in text_of(client.get(OSTRICH))


def test_a_request_without_a_csrf_token_is_refused_and_changes_nothing(demo, client):
    response = ask(client, csrf=False)
    assert response.status_code == 400
    assert "security token is missing" in text_of(response)
    assert requests_in_db(demo) == 0


@pytest.mark.parametrize("url, status", [
    ("/q/why-is-the-sky-blue/request", 409),  # answered already
    ("/q/no-such-question/request", 404),
])
def test_requests_for_answered_or_unknown_questions_are_refused(demo, client, url, status):
    response = client.post(url, data={"csrf_token": token(client)}, headers=HTMX)
    assert response.status_code == status
    assert requests_in_db(demo) == 0


def test_the_request_url_is_post_only(demo, client):
    assert client.get(f"{OSTRICH}/request").status_code == 405


def test_requests_are_rate_limited_with_a_clear_429(demo, client):
    demo.config["ANSWER_REQUEST_LIMIT"] = "2 per minute"
    assert ask(client).status_code == 200
    assert ask(client, COFFEE).status_code == 200
    response = ask(client, "/q/what-is-umami")
    assert response.status_code == 429
    assert "Too many requests" in text_of(response)
    assert requests_in_db(demo) == 2


def test_most_requested_lists_questions_by_demand(demo, client, app):
    for _ in range(3):  # three browsers
        ask(app.test_client(), COFFEE)
    ask(client, OSTRICH)
    page = text_of(client.get("/requests"))
    listing = part(page, '<section id="request-list"')
    rows = re.findall(r'<li><a href="([^"]+)">[^<]*</a>\s*<small class="meta">(\d+) requests?</small>', listing)
    assert rows == [(COFFEE, "3"), (OSTRICH, "1")]
    fragment = text_of(client.get("/requests", headers=HTMX))
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="request-list"')


@pytest.mark.parametrize("page, status", [("abc", 400), ("0", 400), ("2", 404)])
def test_most_requested_pages_check_their_number(demo, client, page, status):
    assert client.get(f"/requests?page={page}").status_code == status
