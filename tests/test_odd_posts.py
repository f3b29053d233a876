"""Whatever a form sends, a POST answers with a page or a clear 4xx, never a 500, on
every database: random field values (NUL bytes, huge numbers, any script) on every form."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import HTMX, Auth, csrf_token, make_campaign, make_user
from tests.test_site_pages import assert_no_server_error

# Every POST route and the fields its forms send.
FORMS = {
    "/login": ["email", "password", "remember", "next"],
    "/register": ["email", "display_name", "password", "next"],
    "/account/password": ["current_password", "new_password"],
    "/support/pledge": ["amount", "custom_amount", "frequency", "public_name", "message", "key"],
    "/support/login": ["email", "password", "remember"],
    "/support/register": ["email", "display_name", "password"],
    "/support/dismiss": [],
    "/support/pledges/1/cancel": [],
    "/trail/clear": [],
}

# Mostly short odd strings; sometimes values the fields expect, so deeper code runs too.
ODD = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000, blacklist_categories=["Cs"]), max_size=300),
    st.sampled_from(["1000", "custom", "once", "monthly", "0", "-1", "1e9", "99999999999999999999", "\x00",
                     "reader@example.org", "x" * 2000, "a" * 20, "/\\evil.example"]),
)


@pytest.fixture
def logged_in(app):
    make_campaign(app)
    make_user(app)
    client = app.test_client()
    Auth(app, client).login()
    return client


@pytest.mark.parametrize("url", sorted(FORMS))
def test_no_form_input_gives_a_server_error(app, logged_in, url):
    token = csrf_token(logged_in)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(values=st.fixed_dictionaries({field: ODD for field in FORMS[url]}), fragment=st.booleans())
    def post(values, fragment):
        response = logged_in.post(url, data={**values, "csrf_token": token}, headers=HTMX if fragment else {})
        assert_no_server_error(response)

    post()
