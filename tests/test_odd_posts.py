"""Whatever a form sends, a POST answers with a page or a clear 4xx, never a 500, on
every database: random field values (NUL bytes, huge numbers, any script) on every POST
route the app has."""
from __future__ import annotations

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pages import HTMX, assert_no_server_error, csrf_token
from tests.pledging import make_campaign
from tests.readers import Auth, make_user
from webapp.asking.models import PENDING, Ask
from webapp.extensions import db

# The editing form's fields (templates/desk/edit.html), one row of each list.
DESK_FORM = ["question", "slug", "category", "checked_on", "status", "sources-0-title", "sources-0-url",
             "sources-0-publisher", "sources-0-published", "related-0", "related-1-slug", "body", "kind", "note",
             "base", "action", "keys", "target", "related_query"]
# The fields each POST route's form sends, by endpoint. The routes themselves come from
# the app's URL map: a new one fails test_every_post_route_is_fuzzed until it is listed.
FIELDS = {
    "accounts.login": ["email", "password", "remember", "next"],
    "accounts.register": ["email", "display_name", "password", "next"],
    "accounts.confirm": [],
    "accounts.change_password": ["current_password", "new_password"],
    "accounts.delete_account": ["password"],
    "accounts.logout": [],
    "support.pledge": ["amount", "custom_amount", "frequency", "public_name", "message", "key"],
    "support.login": ["email", "password", "remember"],
    "support.register": ["email", "display_name", "password"],
    "support.dismiss": [],
    "support.cancel": [],
    "support.stripe_webhook": [],  # signed JSON, not a form: odd forms must be a 4xx (tests/test_payments.py)
    "graph.request_answer": [],
    "graph.clear_trail": [],
    "reports.report": ["what", "source_url", "email"],
    "reports.decide": ["state", "note", "revision", "back"],
    "following.follow": ["action"],
    "following.renew_feed": [],
    "following.email_choice": ["email_digest"],
    "following.unsubscribe": ["List-Unsubscribe"],  # a mail client's one click (RFC 8058)
    "asking.ask": ["text", "context", "key", "confirmed", "choose"],
    "asking.decide": ["action", "category", "slug", "into", "reason", "back"],
    "desk.edit": DESK_FORM,
    "desk.new": DESK_FORM,
    "desk.preview": DESK_FORM,
    "desk.recheck": ["base", "note"],
}
# Routes for editors only: fuzzed again as an editor (a reader's answer is a 403).
EDITORS = {"reports.decide", "asking.decide", "desk.edit", "desk.new", "desk.preview", "desk.recheck"}
# What fills the variable parts of those URLs: an unanswered question, a pledge nobody made.
URL_PARTS = {"slug": "how-fast-can-an-ostrich-run", "reference": "1", "token": "not-a-token", "report_id": "1", "ask_id": "1"}

# Mostly short odd strings; sometimes values the fields expect, so deeper code runs too.
ODD = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000, blacklist_categories=["Cs"]), max_size=300),
    st.sampled_from(["1000", "custom", "once", "monthly", "0", "-1", "1e9", "99999999999999999999", "\x00",
                     "reader@example.org", "x" * 2000, "a" * 20, "/\\evil.example",
                     "save", "preview", "add-source", "down-source-0", "pick-related:x", "correction", "fixed",
                     "2025-11-08", "https://example.org/x", "yes", "open", "merge", "decline", "animals", "follow", "unfollow", "on", "off",
                     "Do cats always land on their feet?"]),
)


def post_routes(app) -> dict[str, str]:
    """Every endpoint that takes a POST, and its URL."""
    with app.test_request_context():
        return {rule.endpoint: url_for(rule.endpoint, **{part: URL_PARTS[part] for part in rule.arguments})
                for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_route_is_fuzzed(app):
    routes = post_routes(app)
    assert not routes.keys() - FIELDS.keys(), f"POST routes missing from FIELDS: {sorted(routes.keys() - FIELDS.keys())}"
    assert not FIELDS.keys() - routes.keys(), f"FIELDS lists routes that are gone: {sorted(FIELDS.keys() - routes.keys())}"


@pytest.fixture
def logged_in(demo):
    make_campaign(demo)
    make_user(demo)
    client = demo.test_client()
    Auth(demo, client).login()
    return client


@pytest.fixture
def editor(demo):
    make_user(demo, "editor@example.org", "Edie Tor", editor=True)
    with demo.app_context():  # a reader's question waiting, so deciding it runs deeper than a 404
        db.session.add(Ask(id=1, form_key="odd-posts-ask-key-1", text="Do cats always land on their feet?",
                           text_key="do cats always land on their feet", requester="browser:odd", state=PENDING))
        db.session.commit()
    client = demo.test_client()
    Auth(demo, client).login(email="editor@example.org")
    return client


@pytest.mark.parametrize("endpoint", sorted(FIELDS))
def test_no_form_input_gives_a_server_error(demo, logged_in, endpoint):
    fuzz(demo, logged_in, endpoint)


@pytest.mark.parametrize("endpoint", sorted(EDITORS))
def test_no_form_input_gives_an_editor_a_server_error(demo, editor, endpoint):
    fuzz(demo, editor, endpoint)


def fuzz(demo, logged_in, endpoint) -> None:
    url = post_routes(demo)[endpoint]
    token = csrf_token(logged_in)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(values=st.fixed_dictionaries({field: ODD for field in FIELDS[endpoint]}), fragment=st.booleans())
    def post(values, fragment):
        response = logged_in.post(url, data={**values, "csrf_token": token}, headers=HTMX if fragment else {})
        assert_no_server_error(response)

    post()
