"""Readers ask their own questions: /ask (page and fragment), "Is it one of these?",
duplicates, the states an ask goes through, the review queue at /desk/asks and on the
command line, trusted accounts, the word list, the limits, and what an asker sees."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from tests.pages import HTMX, csrf_token, form_token, links, part, tags, text_of
from tests.readers import PASSWORD, sign_in
from webapp.accounts import service as accounts
from webapp.accounts.models import User
from webapp.answers.models import Question
from webapp.asking.models import DECLINED, MERGED, OPEN, PENDING, Ask
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.graph.models import AnswerRequest

NEW = "Do cats always land on their feet when they fall?"  # nothing like it in the demo
LIGHTNING = "Can lightning hit the same spot twice in a storm?"  # like an answered demo question
OSTRICH = "How fast can an ostrich run?"  # an unanswered demo question, word for word
READER, EDITOR = "reader@example.org", "editor@example.org"


# --- helpers -----------------------------------------------------------------------------------

def form(client, url="/ask") -> dict:
    """The ask form's token and key, as a browser would send them back."""
    page = text_of(client.get(url))
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    return {"csrf_token": form_token(page), "key": key}


def ask(client, text=NEW, htmx=False, confirmed=True, fields=None, **extra):
    data = fields or form(client)
    data = {**data, "text": text, **extra}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post("/ask", data=data, headers=HTMX if htmx else {})


def asks(app) -> list[Ask]:
    with app.app_context():
        found = list(db.session.scalars(select(Ask).order_by(Ask.id)))
        db.session.expunge_all()
        return found


def requests_for(app, slug) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AnswerRequest).join(
            Question, Question.id == AnswerRequest.question_id).where(Question.slug == slug)) or 0


def question(app, **where) -> Question | None:
    with app.app_context():
        found = db.session.scalar(select(Question).filter_by(**where))
        db.session.expunge_all()
        return found


def editor(app) -> object:
    client = app.test_client()
    user_id = sign_in(app, client, EDITOR, "Ed Itor")
    with app.app_context():
        db.session.get(User, user_id).is_editor = True
        db.session.commit()
    return client


def decide(client, ask_id, htmx=False, **fields):
    data = {"csrf_token": csrf_token(client, "/desk/asks"), **fields}
    return client.post(f"/desk/asks/{ask_id}", data=data, headers=HTMX if htmx else {})


def browser(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def search_slugs(client, words) -> list[str]:
    return re.findall(r'href="/q/([a-z0-9-]+)"', part(text_of(client.get("/search", query_string={"q": words})),
                                                       '<section id="results"'))


# --- the form ----------------------------------------------------------------------------------

def test_ask_is_a_page_and_a_fragment_with_one_form(demo, client):
    page = client.get("/ask")
    assert page.status_code == 200 and "<html" in text_of(page)
    assert '<h1 id="ask-heading">Ask a question</h1>' in text_of(page)
    assert page.headers["Cache-Control"] == "private, no-store"
    box = part(text_of(page), '<div id="ask-box"', "</form>")
    found = tags(box, "form")[0]
    assert found["method"] == "post" and found["action"] == found["hx-post"] == "/ask"
    assert 'name="csrf_token"' in box and 'name="text"' in box and 'name="context"' in box
    fragment = client.get("/ask", headers=HTMX)
    assert "<html" not in text_of(fragment) and text_of(fragment).strip().startswith('<div id="ask-box"')
    # Each form carries its own key: two loads, two asks.
    assert form(client)["key"] != form(client)["key"]


def test_ask_is_linked_from_the_header_the_empty_search_and_unanswered_pages(demo, client):
    assert ("/ask", "Ask") in links(text_of(client.get("/about")))
    nothing = text_of(client.get("/search", query_string={"q": "zzqxv wobblefrotz"}))
    assert ("/ask?q=zzqxv+wobblefrotz", "Ask it as a question") in links(nothing)
    assert ("/ask", "Ask a question of your own") in links(text_of(client.get("/q/how-fast-can-an-ostrich-run")))
    prefilled = text_of(client.get("/ask", query_string={"q": "  Is <b>this</b>\u202e true? "}))
    assert ">Is &lt;b&gt;this&lt;/b&gt; true?</textarea>" in prefilled


@pytest.mark.parametrize("text, message", [
    ("", "Type the question"), ("Why?", "at least 10"), ("x" * 301, "keep it to 300"),
    ("?!?!?!?!?!?!", "in words"),
])
@pytest.mark.parametrize("htmx", [True, False])
def test_a_question_that_cannot_be_kept_comes_back_with_why(demo, client, text, message, htmx):
    response = ask(client, text, htmx=htmx, context="seen on a poster")
    assert response.status_code == 422
    body = text_of(response)
    assert message in body and 'aria-invalid="true"' in body
    assert ("<html" in body) is not htmx
    assert "seen on a poster" in body  # kept, to send again
    assert asks(demo) == []


def test_context_has_a_limit(demo, client):
    response = ask(client, context="y" * 1001)
    assert response.status_code == 422 and "1,000 characters" in text_of(response)
    assert asks(demo) == []


def test_without_a_csrf_token_nothing_is_kept_and_the_text_comes_back(demo, client):
    fields = form(client)
    del fields["csrf_token"]
    response = ask(client, fields=fields, htmx=True)
    assert response.status_code == 400 and "Nothing was sent" in text_of(response)
    assert NEW in html.unescape(text_of(response))
    assert asks(demo) == []


def test_without_a_form_key_it_is_a_clear_400(demo, client):
    fields = form(client)
    fields["key"] = "../../etc"
    response = ask(client, fields=fields)
    assert response.status_code == 400 and "load the page again" in text_of(response)
    assert asks(demo) == []


# --- "Is it one of these?" ---------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [True, False])
def test_questions_like_it_are_offered_first_answered_first(demo, client, htmx):
    response = ask(client, LIGHTNING, htmx=htmx, confirmed=False)
    assert response.status_code == 200
    body = text_of(response)
    assert "Is it one of these?" in body and ("<html" in body) is not htmx
    offers = part(body, '<ol class="ask-offers', "</ol>")
    slugs = re.findall(r'<li>\s*<a href="/q/([a-z0-9-]+)"', offers)
    assert "lightning-same-place-twice" in slugs
    answered = ["not answered yet" not in item for item in offers.split("<li>")[1:]]
    assert answered == sorted(answered, reverse=True)  # every answered one before any other
    # Asking anyway keeps the text, the context and the same key.
    anyway = part(body, '<form method="post" action="/ask" hx-post="/ask" class="ask-anyway"', "</form>")
    assert 'name="confirmed" value="yes"' in anyway and f'value="{html.escape(LIGHTNING)}"' in anyway
    assert asks(demo) == []  # nothing kept until the reader chooses


def test_offers_say_a_claim_s_verdict_in_words(demo, client):
    body = text_of(ask(client, "Is the Great Wall of China really visible from the Moon?", confirmed=False))
    offers = part(body, '<ol class="ask-offers', "</ol>")
    assert "great-wall-visible-from-space" in offers and "Verdict: <strong>False</strong>" in offers


def test_choosing_an_unanswered_offer_requests_its_answer(demo, client):
    response = client.post("/ask", data={"csrf_token": csrf_token(client, "/ask"),
                                         "choose": "how-fast-can-an-ostrich-run"}, headers=HTMX)
    assert response.status_code == 200 and "we counted your request" in text_of(response)
    assert requests_for(demo, "how-fast-can-an-ostrich-run") == 1
    again = client.post("/ask", data={"csrf_token": csrf_token(client, "/ask"), "choose": "how-fast-can-an-ostrich-run"})
    assert "already requested" in text_of(again)
    assert requests_for(demo, "how-fast-can-an-ostrich-run") == 1  # once per reader
    assert asks(demo) == []


def test_choosing_an_answered_offer_goes_to_the_answer(demo, client):
    token = csrf_token(client, "/ask")
    response = client.post("/ask", data={"csrf_token": token, "choose": "lightning-same-place-twice"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/q/lightning-same-place-twice")
    with_htmx = client.post("/ask", data={"csrf_token": token, "choose": "lightning-same-place-twice"}, headers=HTMX)
    assert with_htmx.headers["HX-Redirect"] == "/q/lightning-same-place-twice"
    assert client.post("/ask", data={"csrf_token": token, "choose": "no-such-question"}).status_code == 404


@pytest.mark.parametrize("text", [OSTRICH, "how fast can an ostrich   run", "An ostrich: how fast can it run?",
                                  "How fast can an ostritch run?", "Fact check: how fast can an ostrich run?"])
def test_the_same_question_again_becomes_a_request_not_a_question(demo, client, text):
    response = ask(client, text, confirmed=False)
    assert response.status_code == 200
    body = text_of(response)
    assert "This question is already on" in body and "We counted your request" in body
    assert ("/q/how-fast-can-an-ostrich-run", "How fast can an ostrich run?") in links(body)
    assert requests_for(demo, "how-fast-can-an-ostrich-run") == 1
    assert asks(demo) == [] and question(demo, text=text) is None or text == OSTRICH


@pytest.mark.parametrize("a, b, same", [
    ("fact check: how fast can an ostrich run", "how fast can an ostrich run", True),
    ("is it true that bats are blind", "are bats blind", True),
    ("how fast do ostriches run", "how fast do ostrich run", True),
    ("are bats blind", "are cats blind", False),  # one letter, another question
    ("are bats blind", "are bats blond", False),
    ("do cats land on their feet", "do cats land on their heads", False),
    ("why is the sky blue", "why is the sea blue", False),
])
def test_which_texts_are_one_question(a, b, same):
    from webapp.asking.service import close

    assert close(a, b) is same and close(b, a) is same


def test_an_answered_question_asked_again_points_to_its_answer(demo, client):
    body = text_of(ask(client, "Why is the sky blue?"))
    assert "This question is already on" in body and "read the answer" in body
    assert requests_for(demo, "why-is-the-sky-blue") == 0 and asks(demo) == []


# --- keeping an ask ----------------------------------------------------------------------------

def test_an_ask_is_kept_pending_and_its_asker_sees_it(demo, client):
    response = ask(client, NEW, context="My aunt says so.")
    assert response.status_code == 303
    [kept] = asks(demo)
    assert response.headers["Location"].endswith(f"/ask/{kept.id}")
    assert (kept.state, kept.text, kept.context, kept.user_id) == (PENDING, NEW, "My aunt says so.", None)
    assert kept.address_key and "127.0.0.1" not in kept.address_key  # a keyed hash, not the address
    page = client.get(f"/ask/{kept.id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert "waiting for review" in text_of(page) and NEW in html.unescape(text_of(page))
    # Another browser cannot see it.
    assert demo.test_client().get(f"/ask/{kept.id}").status_code == 404


def test_with_htmx_the_box_says_what_happened_in_place(demo, client):
    response = ask(client, NEW, htmx=True)
    assert response.status_code == 200
    body = text_of(response)
    assert "<html" not in body and body.strip().startswith('<div id="ask-box"')
    assert "waiting for review" in body and 'role="status"' in body


def test_the_same_form_sent_twice_is_one_ask(demo, client):
    fields = form(client)
    first = ask(client, fields=fields)
    second = ask(client, fields=fields, htmx=True)
    assert first.status_code == 303 and second.status_code == 200 and "waiting for review" in text_of(second)
    assert len(asks(demo)) == 1
    # Someone else sending that key gets a 409, and nothing changes.
    other = demo.test_client()
    stolen = {**form(other), "key": fields["key"]}
    assert ask(other, fields=stolen).status_code == 409
    assert len(asks(demo)) == 1


def test_a_pending_question_is_nowhere_public(demo, client):
    ask(client, NEW)
    reader = demo.test_client()
    assert question(demo, text=NEW) is None
    results = part(text_of(reader.get("/search", query_string={"q": "cats land feet"})), '<section id="results"')
    assert "Do cats always" not in results and "<mark>cats</mark>" not in results
    assert NEW not in html.unescape(text_of(reader.get("/requests")))
    assert NEW not in html.unescape(text_of(reader.get("/explore")))


def test_what_a_reader_types_is_text_never_markup_or_a_link(demo, client):
    text = "Is <script>alert(1)</script> https://spam.example/win really true?"
    ask(client, text, context="<img src=x onerror=alert(1)> see https://spam.example")
    [kept] = asks(demo)
    page = text_of(client.get(f"/ask/{kept.id}"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="https://spam.example' not in page
    queue = text_of(editor(demo).get("/desk/asks"))
    assert "<img src=x" not in queue and "&lt;img src=x" in queue
    assert 'href="https://spam.example' not in queue


def test_control_characters_are_taken_out(demo, client):
    ask(client, "Is\u202e this\x00 claim\u200b about cats true?")
    [kept] = asks(demo)
    assert kept.text == "Is this claim about cats true?"


# --- the editors' review queue -----------------------------------------------------------------

def test_the_queue_is_for_editors(demo, client):
    assert client.get("/desk/asks").status_code == 302  # to log in
    sign_in(demo, client, READER)
    assert client.get("/desk/asks").status_code == 403
    assert client.post("/desk/asks/1", data={"csrf_token": csrf_token(client), "action": "open"}).status_code == 403


def test_the_queue_lists_pending_questions_oldest_first_with_their_guess(demo, client):
    ask(client, NEW)
    ask(browser(demo, "192.0.2.8"), "Does the full moon make people behave strangely?")
    desk = editor(demo)
    page = desk.get("/desk/asks")
    body = text_of(page)
    assert page.headers["Cache-Control"] == "private, no-store"
    assert body.index("Do cats always land") < body.index("Does the full moon")
    assert "2 pending questions" in body
    fragment = text_of(desk.get("/desk/asks?state=all", headers=HTMX))
    assert fragment.strip().startswith('<div id="ask-list"') and "<html" not in fragment
    assert desk.get("/desk/asks?state=whatever").status_code == 400


@pytest.mark.parametrize("htmx", [True, False])
def test_opening_a_question_makes_it_public_requestable_and_searchable(demo, client, htmx):
    sign_in(demo, client, READER)
    ask(client, NEW)
    [kept] = asks(demo)
    desk = editor(demo)
    response = decide(desk, kept.id, htmx=htmx, action="open", category="animals", slug="", back="/desk/asks")
    if htmx:
        assert response.status_code == 200 and "Saved: Open" in text_of(response)
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/desk/asks"
    made = question(demo, text=NEW)
    assert made is not None and made.status == "unanswered" and made.slug == "do-cats-always-land-on-their-feet-when-they-fall"
    reader = demo.test_client()
    assert reader.get(f"/q/{made.slug}").status_code == 200
    assert (f"/q/{made.slug}", NEW) in links(text_of(reader.get("/requests")))  # the asker's request counts
    assert made.slug in search_slugs(reader, "cats land feet")
    [opened] = asks(demo)
    assert (opened.state, opened.question_id) == (OPEN, made.id)
    account = text_of(client.get("/account"))
    assert "Open: not answered yet" in part(account, '<section id="your-questions"')


def test_opening_with_another_category_and_address(demo, client):
    ask(client, NEW)
    [kept] = asks(demo)
    desk = editor(demo)
    refused = decide(desk, kept.id, htmx=True, action="open", category="no-such", slug="Bad Slug!")
    assert refused.status_code == 422 and "Nothing was changed" in text_of(refused)
    assert asks(demo)[0].state == PENDING
    taken = decide(desk, kept.id, action="open", category="", slug="why-is-the-sky-blue")
    assert taken.status_code == 422 and "Another question has this web address" in text_of(taken)
    assert decide(desk, kept.id, action="open", category="", slug="cats-landing").status_code == 303
    made = question(demo, slug="cats-landing")
    assert made is not None and made.category_id is None


def test_declining_shows_the_reason_to_the_asker(demo, client):
    sign_in(demo, client, READER)
    ask(client, NEW)
    [kept] = asks(demo)
    desk = editor(demo)
    assert decide(desk, kept.id, action="decline", reason="").status_code == 422
    assert decide(desk, kept.id, action="decline", reason="Not something <we> can research.").status_code == 303
    assert asks(demo)[0].state == DECLINED and question(demo, text=NEW) is None
    for page in (text_of(client.get(f"/ask/{kept.id}")), text_of(client.get("/account"))):
        assert "Not something &lt;we&gt; can research." in page
    # A decided question is not decided again.
    again = decide(desk, kept.id, action="open")
    assert again.status_code == 422 and "decided already" in text_of(again)


def test_merging_makes_the_ask_a_request_for_the_other_question(demo, client):
    sign_in(demo, client, READER)
    ask(client, "What is the top speed of an ostrich over land?")
    [kept] = asks(demo)
    desk = editor(demo)
    assert decide(desk, kept.id, action="merge", into="no-such-question").status_code == 422
    assert decide(desk, kept.id, action="merge", into="how-fast-can-an-ostrich-run").status_code == 303
    assert asks(demo)[0].state == MERGED
    assert requests_for(demo, "how-fast-can-an-ostrich-run") == 1
    status = text_of(client.get(f"/ask/{kept.id}"))
    assert "joined one already" in status and ("/q/how-fast-can-an-ostrich-run", OSTRICH) in links(status)


def test_the_same_text_from_two_readers_opens_once_with_both_requests(demo, client):
    ask(client, NEW)
    ask(browser(demo, "192.0.2.9"), NEW.lower())
    first, second = asks(demo)
    assert decide(editor(demo), first.id, action="open").status_code == 303
    states = {a.id: a.state for a in asks(demo)}
    assert states == {first.id: OPEN, second.id: MERGED}
    assert requests_for(demo, "do-cats-always-land-on-their-feet-when-they-fall") == 2


def test_the_desk_home_says_how_many_questions_wait(demo, client):
    ask(client, NEW)
    ask(browser(demo, "192.0.2.8"), "Is the new casino downtown rigged against players?")
    first, second = asks(demo)
    section = part(text_of(editor(demo).get("/desk/")), '<section id="desk-asks"')
    assert re.search(r'<span class="desk-count">\s*2</span>', section)
    assert links(section)[1:4] == [(f"/desk/asks/{first.id}", NEW),
                                    (f"/desk/asks/{second.id}", "Is the new casino downtown rigged against players?"),
                                    ("/desk/asks", "All readers’ questions, in the review queue")]
    assert "on the word list: casino" in section


# --- trust, the word list, the limits ----------------------------------------------------------

def _opened_before(app, user_id, n):
    with app.app_context():
        start = db.session.scalar(select(func.count()).select_from(Ask)) or 0
        for i in range(start, start + n):
            db.session.add(Ask(form_key=f"earlier-ask-key-{i:04d}", text=f"An earlier question {i}",
                               text_key=f"an earlier question {i}", user_id=user_id, requester=f"account:{user_id}",
                               state=OPEN, decided_at=utcnow() - dt.timedelta(days=5),
                               created_at=utcnow() - dt.timedelta(days=6)))
        db.session.commit()


def test_a_trusted_account_opens_its_own_questions(demo, client):
    demo.config["ASK_TRUSTED_AFTER"] = 2
    user_id = sign_in(demo, client, READER)
    _opened_before(demo, user_id, 2)
    ask(client, NEW)
    made = question(demo, text=NEW)
    assert made is not None and asks(demo)[-1].state == OPEN
    assert "/q/" + made.slug in text_of(client.get(f"/ask/{asks(demo)[-1].id}"))


def test_trust_needs_enough_opened_questions_and_no_recent_decline(demo, client):
    demo.config["ASK_TRUSTED_AFTER"] = 2
    user_id = sign_in(demo, client, READER)
    _opened_before(demo, user_id, 1)
    ask(client, NEW)
    assert asks(demo)[-1].state == PENDING
    _opened_before_more = Ask(form_key="declined-lately-key-1", text="A declined one here", text_key="a declined one here",
                              user_id=user_id, requester=f"account:{user_id}", state=DECLINED, reason="No",
                              decided_at=utcnow() - dt.timedelta(days=3))
    with demo.app_context():
        db.session.add(_opened_before_more)
        db.session.commit()
    _opened_before(demo, user_id, 3)
    ask(client, "Does the full moon make people behave strangely?")
    assert asks(demo)[-1].state == PENDING


def test_logged_out_readers_are_never_trusted(demo, client):
    demo.config["ASK_TRUSTED_AFTER"] = 1
    ask(client, NEW)
    assert asks(demo)[-1].state == PENDING and question(demo, text=NEW) is None


def test_a_word_on_the_list_keeps_even_a_trusted_ask_for_review(demo, client):
    demo.config["ASK_TRUSTED_AFTER"] = 1
    user_id = sign_in(demo, client, READER)
    _opened_before(demo, user_id, 1)
    ask(client, "Is the new CASINO downtown rigged against players?")
    kept = asks(demo)[-1]
    assert (kept.state, kept.flagged) == (PENDING, "casino")
    assert "On the word list:</strong> casino" in text_of(editor(demo).get("/desk/asks"))


def test_the_word_list_can_be_the_operators_own(demo, client, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# ours\nfull moon\n", encoding="utf-8")
    demo.config["ASK_WORD_LIST"] = str(words)
    ask(client, "Does the Full Moon make people behave strangely?")
    ask(browser(demo, "192.0.2.4"), "Is the new casino downtown rigged against players?")
    assert [a.flagged for a in asks(demo)] == ["full moon", None]


def test_a_daily_cap_per_account(demo, client):
    demo.config["ASK_DAILY_CAP"] = 2
    sign_in(demo, client, READER)
    assert ask(client, NEW).status_code == 303
    assert ask(client, "Does the full moon make people behave strangely?").status_code == 303
    refused = ask(client, "Do sharks really never get cancer at all?", htmx=True)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 86400
    assert "as many as we take in a day" in text_of(refused) and "sharks" in text_of(refused)
    assert len(asks(demo)) == 2
    # A day later the account may ask again.
    with demo.app_context():
        for one in db.session.scalars(select(Ask)):
            one.created_at -= dt.timedelta(hours=25)
        db.session.commit()
    assert ask(client, "Do sharks really never get cancer at all?").status_code == 303


def test_a_daily_cap_per_address_when_logged_out(demo, app):
    demo.config["ASK_DAILY_CAP"] = 1
    first, second = browser(app, "192.0.2.1"), browser(app, "192.0.2.1")
    assert ask(first, NEW).status_code == 303
    assert ask(second, "Does the full moon make people behave strangely?").status_code == 429
    assert ask(browser(app, "192.0.2.2"), "Does the full moon make people behave strangely?").status_code == 303


def test_asks_are_rate_limited_per_address(demo, app):
    demo.config["ASK_LIMIT"] = "2 per hour"
    reader = browser(app, "192.0.2.5")
    assert ask(reader, "").status_code == 422  # a form sent back does not use up the allowance
    assert ask(reader, LIGHTNING, confirmed=False).status_code == 200  # nor does the offer
    assert ask(reader, NEW).status_code == 303
    assert ask(reader, "Does the full moon make people behave strangely?").status_code == 303
    refused = ask(reader, "Do sharks really never get cancer at all?", htmx=True)
    assert refused.status_code == 429 and "Retry-After" in refused.headers and "sharks" in text_of(refused)
    assert len(asks(demo)) == 2


# --- the command line --------------------------------------------------------------------------

def test_the_review_queue_from_the_command_line(demo, client):
    ask(client, NEW)
    ask(browser(demo, "192.0.2.3"), "Does the full moon make people behave strangely?")
    ask(browser(demo, "192.0.2.4"), "What is the top speed of an ostrich over land?")
    first, second, third = asks(demo)
    runner = demo.test_cli_runner()
    listed = runner.invoke(args=["asks", "list"])
    assert listed.exit_code == 0 and NEW in listed.output and "full moon" in listed.output
    opened = runner.invoke(args=["asks", "open", str(first.id), "--slug", "cats-feet"])
    assert opened.exit_code == 0 and "/q/cats-feet" in opened.output
    assert runner.invoke(args=["asks", "decline", str(second.id), "Not checkable"]).exit_code == 0
    assert runner.invoke(args=["asks", "merge", str(third.id), "how-fast-can-an-ostrich-run"]).exit_code == 0
    assert [a.state for a in asks(demo)] == [OPEN, DECLINED, MERGED]
    again = runner.invoke(args=["asks", "decline", str(second.id), "again"])
    assert again.exit_code != 0 and "decided already" in again.output
    assert runner.invoke(args=["asks", "open", "9999"]).exit_code != 0
    assert "no pending questions" in runner.invoke(args=["asks", "list"]).output


def test_a_deleted_account_withdraws_its_pending_questions(demo, client):
    user_id = sign_in(demo, client, READER)
    ask(client, NEW)
    ask(client, "Does the full moon make people behave strangely?")
    first, second = asks(demo)
    assert decide(editor(demo), first.id, action="open").status_code == 303
    with demo.app_context():
        accounts.delete(db.session, db.session.get(User, user_id), PASSWORD)
        db.session.commit()
    [kept] = asks(demo)  # the pending one is withdrawn; the opened one stays, with its question
    assert (kept.id, kept.state, kept.user_id) == (first.id, OPEN, None)
    assert question(demo, text=NEW) is not None


def test_two_editors_deciding_at_once_make_one_decision(demo, client):
    """Two app servers' editors open the same question at the same moment: the second
    waits for the first's commit and is told it was decided; one question is made."""
    import threading

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from webapp.asking import service

    ask(client, NEW)
    [kept] = asks(demo)
    outcome = {}
    with demo.app_context():
        first = Session(db.engine)
        service.open_ask(first, first.get(Ask, kept.id), editor_id=None)  # taken, not committed yet

        def second_editor():
            with demo.app_context(), Session(db.engine) as second:
                try:
                    service.open_ask(second, second.get(Ask, kept.id), editor_id=None, slug="another-address")
                    second.commit()
                    outcome["second"] = "opened"
                except service.DecisionRefused as refused:
                    outcome["second"] = refused.errors
                except OperationalError:  # SQLite: busy, which the app answers with a 503 to retry
                    outcome["second"] = "busy"

        other = threading.Thread(target=second_editor)
        other.start()
        other.join(0.5)
        first.commit()
        first.close()
        other.join(30)
    assert outcome["second"] in ({"state": "This question has been decided already."}, "busy")
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question).where(Question.text == NEW)) == 1
    assert asks(demo)[0].state == OPEN


def test_an_opened_question_takes_the_first_free_address_after_its_texts_own(demo):
    from webapp.asking import service

    with demo.app_context():
        assert service.free_slug(db.session, "Why is the sky blue?") == "why-is-the-sky-blue-2"
        for n in range(2, 25):  # past the first twenty asked for at once
            db.session.add(Question(slug=f"why-is-the-sky-blue-{n}", text=f"Why is the sky blue? ({n})",
                                    text_key=f"sky-{n}", status="unanswered", summary=""))
        db.session.flush()
        assert service.free_slug(db.session, "Why is the sky blue?") == "why-is-the-sky-blue-25"
        assert service.free_slug(db.session, "anything", wanted="cats-landing") == "cats-landing"
        db.session.rollback()


def test_choosing_a_name_with_a_nul_byte_is_a_404_on_every_database(demo, client):
    """PostgreSQL refuses text holding NUL; hypothesis found it as a 500 (test_odd_posts)."""
    chosen = client.post("/ask", data={"csrf_token": csrf_token(client, "/ask"), "choose": "ostrich\x00run"})
    assert chosen.status_code == 404
