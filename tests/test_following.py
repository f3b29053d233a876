"""Following questions (issue 16): the Follow button (page and fragment), following what
one requested or asked, /account/following and its marks, the private feed, and the
daily email digest through a real SMTP server (aiosmtpd): one message for three
changes, none after unsubscribing, none twice after a crash between sending and
recording, retried after a refusal."""
from __future__ import annotations

import datetime as dt
import re
import socket
import xml.etree.ElementTree as ET
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests.pages import HTMX, csrf_token, links, part, text_of
from tests.readers import sign_in
from webapp.accounts.models import User
from webapp.answers.models import Question
from webapp.asking.models import Ask
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.following import digest
from webapp.following.models import SENDING, SENT, UNKNOWN, Digest, Follow, QuestionChange
from webapp.revisions import service as revisions

SKY, OSTRICH = "why-is-the-sky-blue", "how-fast-can-an-ostrich-run"
ATOM = "{http://www.w3.org/2005/Atom}"


# --- helpers -----------------------------------------------------------------------------------

def reader(app, email="reader@example.org", name="Rea Der"):
    client = app.test_client()
    user_id = sign_in(app, client, email, name)
    with app.app_context():
        db.session.get(User, user_id).confirmed_at = utcnow()
        db.session.commit()
    return client, user_id


def press(client, slug, action="follow", htmx=False):
    return client.post(f"/q/{slug}/follow", data={"csrf_token": csrf_token(client), "action": action},
                       headers=HTMX if htmx else {})


def follows(app, user_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Question.slug).join(Follow, Follow.question_id == Question.id)
                                       .where(Follow.user_id == user_id).order_by(Question.slug)))


def change(app, slug, kind="re-check", note="Checked again", days_later=0, answer=False):
    """An editor's revision of the question: what followers are told of."""
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.slug == slug))
        if answer:
            question.status, question.summary, question.checked_on = "answered", "About 70 km/h [1].", dt.date.today()
        else:
            question.checked_on = dt.date.today()
        revisions.record(db.session, question, kind, note, None,
                         now=utcnow() + dt.timedelta(days=days_later))
        db.session.commit()


def seen_long_ago(app, user_id):
    with app.app_context():
        for row in db.session.scalars(select(Follow).where(Follow.user_id == user_id)):
            row.seen_at = row.created_at = utcnow() - dt.timedelta(days=3)
        db.session.commit()


class Inbox:
    """A local SMTP server: what it received, and whether it refuses."""

    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(demo):
    handler = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's controller cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    demo.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                       MAIL_USE_TLS=False, SITE_URL="https://plumb.example")
    demo.extensions.pop("mail", None)
    yield handler
    controller.stop()
    demo.extensions.pop("mail", None)


def notify(app):
    result = app.test_cli_runner().invoke(args=["following", "notify"])
    return result


def body(message) -> str:
    return message.get_payload(decode=True).decode()


# --- the button --------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", [SKY, OSTRICH])
def test_logged_out_readers_are_asked_to_log_in(demo, client, slug):
    box = part(text_of(client.get(f"/q/{slug}")), '<section id="follow"')
    assert (f"/login?next=/q/{slug}", "Log in to follow this question") in links(box)
    assert client.post(f"/q/{slug}/follow", data={"csrf_token": csrf_token(client)}).status_code == 302


@pytest.mark.parametrize("slug", [SKY, OSTRICH])
def test_follow_and_stop_with_htmx(demo, slug):
    client, user_id = reader(demo)
    assert "Follow this question</button>" in part(text_of(client.get(f"/q/{slug}")), '<section id="follow"')
    response = press(client, slug, htmx=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    fragment = text_of(response)
    assert fragment.strip().startswith('<section id="follow"') and "<html" not in fragment
    assert 'aria-pressed="true"' in fragment and "Followed." in fragment
    assert follows(demo, user_id) == [slug]
    assert press(client, slug, htmx=True).status_code == 200 and follows(demo, user_id) == [slug]  # once
    stopped = text_of(press(client, slug, "unfollow", htmx=True))
    assert "You no longer follow it." in stopped and follows(demo, user_id) == []


def test_follow_without_javascript_comes_back_to_the_question(demo):
    client, user_id = reader(demo)
    response = press(client, SKY)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/q/{SKY}#follow")
    assert 'aria-pressed="true"' in part(text_of(client.get(f"/q/{SKY}")), '<section id="follow"')
    assert press(client, SKY, "dance").status_code == 400
    assert client.post("/q/no-such/follow", data={"csrf_token": csrf_token(client)}).status_code == 404
    assert client.post(f"/q/{SKY}/follow", data={"action": "follow"}).status_code == 400  # no CSRF token
    assert follows(demo, user_id) == [SKY]


def test_requesting_an_answer_follows_the_question(demo):
    client, user_id = reader(demo)
    client.post(f"/q/{OSTRICH}/request", data={"csrf_token": csrf_token(client)})
    assert follows(demo, user_id) == [OSTRICH]
    anonymous = demo.test_client()
    anonymous.post(f"/q/{SKY}/request", data={"csrf_token": csrf_token(anonymous)})
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Follow)) == 1


def test_an_asked_question_is_followed_once_it_is_open(demo):
    client, user_id = reader(demo)
    page = text_of(client.get("/ask"))
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    client.post("/ask", data={"csrf_token": csrf_token(client, "/ask"), "key": key, "confirmed": "yes",
                              "text": "Do cats always land on their feet when they fall?"})
    assert follows(demo, user_id) == []  # pending: not a question yet
    runner = demo.test_cli_runner()
    with demo.app_context():
        ask_id = db.session.scalar(select(Ask.id))
    assert runner.invoke(args=["asks", "open", str(ask_id), "--slug", "cats-feet"]).exit_code == 0
    assert follows(demo, user_id) == ["cats-feet"]


# --- /account/following ------------------------------------------------------------------------

def test_the_list_marks_what_changed_since_the_last_visit(demo):
    client, user_id = reader(demo)
    press(client, SKY)
    press(client, OSTRICH)
    press(client, "goldfish-memory")
    seen_long_ago(demo, user_id)
    change(demo, SKY, "re-check")
    change(demo, OSTRICH, "update", "First answer", answer=True)
    page = client.get("/account/following")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    items = {slug: item for slug, item in re.findall(r'<a href="/q/([a-z0-9-]+)">.*?</a>(.*?)</li>', text_of(page), re.S)}
    assert "re-checked since your last visit" in items[SKY]
    assert "answered!" in items[OSTRICH]
    assert "follow-mark" not in items["goldfish-memory"]
    client.get(f"/q/{SKY}")  # reading it: no longer new
    again = text_of(client.get("/account/following", headers=HTMX))
    assert again.strip().startswith('<div id="following-list"')
    assert "re-checked since your last visit" not in again and "answered!" in again
    assert ("/account/following", "see what changed, your private feed, and email") in links(text_of(client.get("/account")))


def test_the_list_is_for_its_owner(demo, client):
    assert client.get("/account/following").status_code == 302


# --- the private feed ----------------------------------------------------------------------------

def test_the_private_feed_lists_changes_and_can_be_renewed(demo):
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY, "correction", "Fixed a date")
    page = text_of(client.get("/account/following"))
    feed_url = re.search(r'<code class="feed-address">([^<]+)</code>', page).group(1)
    path = feed_url.split("plumb.example", 1)[1] if "plumb.example" in feed_url else feed_url.split("localhost", 1)[1]
    anonymous = demo.test_client()  # a feed reader: no session
    response = anonymous.get(path)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    assert "Set-Cookie" not in response.headers
    feed = ET.fromstring(response.data)
    for required in ("id", "title", "updated", "author"):
        assert feed.find(ATOM + required) is not None
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    [entry] = feed.findall(ATOM + "entry")
    assert entry.find(ATOM + "title").text == "Corrected: Why is the sky blue?"
    assert entry.find(ATOM + "link").get("href").endswith(f"/q/{SKY}")
    renewed = client.post("/account/following/feed", data={"csrf_token": csrf_token(client)}, headers=HTMX)
    assert "the old one no longer works" in text_of(renewed)
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/following/feed/not-a-token.atom").status_code == 404


# --- the daily digest ------------------------------------------------------------------------------

def test_mail_off_sends_nothing_and_marks_nothing(demo):
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY)
    result = notify(demo)
    assert result.exit_code == 0 and "notifications are off" in result.output
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Digest)) == 0


def test_three_changes_make_one_message_with_a_one_click_unsubscribe(demo, inbox):
    client, user_id = reader(demo)
    for slug in (SKY, OSTRICH, "goldfish-memory"):
        press(client, slug)
    seen_long_ago(demo, user_id)
    change(demo, SKY, "re-check")
    change(demo, OSTRICH, "update", "First answer", answer=True)
    change(demo, "goldfish-memory", "correction", "Fixed the study's year")
    result = notify(demo)
    assert result.exit_code == 0 and "sent 1" in result.output
    [message] = inbox.messages
    assert message["To"] == "reader@example.org" and message["Subject"] == "3 questions you follow have changed"
    text = body(message)
    assert "- Re-checked: Why is the sky blue?" in text and "- Answered: How fast can an ostrich run?" in text
    assert "- Corrected: Do goldfish have a three-second memory?" in text
    assert f"https://plumb.example/q/{SKY}" in text
    unsubscribe = re.search(r"<(https://plumb\.example/following/unsubscribe/[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and unsubscribe in text
    # Nothing new: nothing more, even on the next run.
    assert notify(demo).exit_code == 0 and len(inbox.messages) == 1
    # A mail client's one click (RFC 8058): a POST without a session or CSRF token.
    path = unsubscribe.removeprefix("https://plumb.example")
    assert "Stop these emails</button>" in text_of(demo.test_client().get(path))  # a GET changes nothing
    done = demo.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more emails" in text_of(done)
    change(demo, SKY, "correction", "Another fix", days_later=2)
    with demo.app_context():  # a day later
        for row in db.session.scalars(select(Digest)):
            row.created_at -= dt.timedelta(days=2)
        db.session.commit()
    assert notify(demo).exit_code == 0 and len(inbox.messages) == 1  # none after unsubscribing
    assert demo.test_client().post("/following/unsubscribe/forged-token").status_code == 404


def test_a_run_looks_only_at_accounts_with_something_untold(demo, inbox):
    """Each run looks at the accounts with news, one by one: an account told of
    everything it follows is not among them (before, every account whose questions ever
    changed was looked at again on every run), and a newer change brings it back."""
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY)
    with demo.app_context():
        assert digest.accounts_with_news(db.session) == [user_id]
    notify(demo)
    assert len(inbox.messages) == 1
    with demo.app_context():
        assert digest.accounts_with_news(db.session) == []
    change(demo, SKY, "correction", "Fixed")
    with demo.app_context():
        assert digest.accounts_with_news(db.session) == [user_id]


def test_at_most_one_message_a_day(demo, inbox):
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY)
    notify(demo)
    change(demo, SKY, "correction", "Fixed")
    result = notify(demo)
    assert "waiting for their day 1" in result.output and len(inbox.messages) == 1
    with demo.app_context():
        for row in db.session.scalars(select(Digest)):
            row.created_at -= dt.timedelta(hours=25)
        db.session.commit()
    notify(demo)
    assert len(inbox.messages) == 2 and "- Corrected: Why is the sky blue?" in body(inbox.messages[1])
    assert "Re-checked" not in body(inbox.messages[1])  # only what came after the first


def test_a_refused_message_is_retried_and_sent_once(demo, inbox):
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY)
    inbox.refuse = True
    result = notify(demo)
    assert result.exit_code == 1 and "failed 1" in result.output and inbox.messages == []
    inbox.refuse = False
    assert notify(demo).exit_code == 0 and len(inbox.messages) == 1
    assert notify(demo).exit_code == 0 and len(inbox.messages) == 1
    with demo.app_context():
        assert [d.status for d in db.session.scalars(select(Digest))] == [SENT]


def test_a_crash_between_sending_and_recording_never_sends_twice(demo, inbox):
    """The message went, and the run died before marking it sent: the digest is left
    `sending`. Later runs give it up as unknown and never send those changes again."""
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY)
    with demo.app_context():
        last = db.session.scalar(select(func.max(QuestionChange.id)))
        db.session.add(Digest(user_id=user_id, first_change_id=last, last_change_id=last, changes=1, status=SENDING,
                              created_at=utcnow() - dt.timedelta(minutes=1)))
        db.session.commit()
    assert notify(demo).exit_code == 0 and inbox.messages == []  # perhaps still on its way: not again
    with demo.app_context():
        for row in db.session.scalars(select(Digest)):
            row.created_at -= dt.timedelta(hours=25)
        db.session.commit()
    result = notify(demo)
    assert "interrupted earlier and not sent again" in result.output and inbox.messages == []
    with demo.app_context():
        assert [d.status for d in db.session.scalars(select(Digest))] == [UNKNOWN]
    change(demo, SKY, "correction", "Fixed", days_later=0)
    notify(demo)
    assert len(inbox.messages) == 1 and "Re-checked" not in body(inbox.messages[0])


def test_two_runs_at_once_send_one_message(demo, inbox):
    client, user_id = reader(demo)
    press(client, SKY)
    seen_long_ago(demo, user_id)
    change(demo, SKY)
    with demo.app_context(), demo.test_request_context("/", base_url="https://plumb.example"):
        changes = digest.service.changes_for(db.session, user_id, newest_first=False)
        first = digest._claim(db.session, user_id, changes[0].id, changes[-1].id, 1, utcnow())
        second = digest._claim(db.session, user_id, changes[0].id, changes[-1].id, 1, utcnow())
    assert first is not None and second is None


def test_a_deleted_account_is_forgotten(demo):
    client, user_id = reader(demo)
    press(client, SKY)
    with demo.app_context():
        from webapp.accounts.service import account_deleted

        account_deleted.send(db.session, user_id=user_id)
        db.session.commit()
    assert follows(demo, user_id) == []
