"""Readers asking: reading what they typed, the questions it may already be, keeping an
ask, and the editors' decisions (open, merge, decline).

The rules:
- What a reader types is cleaned (one line, no control or format characters) and is
  escaped wherever it is shown; it never passes through Markdown, so a link in it is
  only text.
- An ask is kept apart from questions (models.Ask) until it is opened. Only then does
  a `Question` exist, so nothing pending is public, searchable or in the graph.
- The same text asked again is never a second question: an existing question with the
  same key (naming.text_key) or one very close to it (`closest`) takes the ask as a
  request for its answer instead; a pending ask with the same key opens with it.
- The form's key makes an ask idempotent: the same form sent twice keeps one ask.
- An account with TRUSTED_AFTER approved asks, none declined lately, opens its asks
  itself, unless the text holds a word of the site's word list.

Everything here takes plain values and a session; the routes read the request."""
from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import hmac
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.accounts.service import account_deleted
from webapp.answers.service import question_by_slug  # noqa: F401 - the routes' lookup
from webapp.answers.models import UNANSWERED, Category, Question
from webapp.asking.models import CONTEXT_MAX, DECLINED, MERGED, OPEN, PENDING, REASON_MAX, TEXT_MAX, TEXT_MIN, Ask
from webapp.clock import utcnow
from webapp.content.naming import fold_accents, slugify, text_key
from webapp.graph.models import AnswerRequest
from webapp.graph.requests import answer_requested
from webapp.pagination import Page, paginate
from webapp.search import service as search
from webapp.search.query import STOP_WORDS, WORD
from webapp.search.results import Hit
from webapp.usertext import clean_line, clean_text

OFFERED = 5  # existing questions offered as "Is it one of these?"
CLOSE_ENOUGH = 0.9  # difflib's ratio between two question keys that may be one question
SPELT_ALIKE, SPELT_ALIKE_LENGTH = 0.85, 5  # one word spelt otherwise: this alike, this long
DECLINED_LATELY_DAYS = 90  # a declined ask this recent keeps an account reviewed
DAY = dt.timedelta(days=1)
WORD_LIST = Path(__file__).with_name("word_list.txt")


# --- reading what the reader typed ------------------------------------------------------------

@dataclass
class Draft:
    """An ask as the form sent it, cleaned; `errors` says what is wrong, by field."""

    text: str = ""
    context: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return text_key(self.text)


def read(text: str, context: str = "") -> Draft:
    draft = Draft(text=clean_line(text or ""), context=clean_text(context or ""))
    if not draft.text:
        draft.errors["text"] = "Type the question you want answered, or the claim you want checked."
    elif len(draft.text) < TEXT_MIN:
        draft.errors["text"] = f"Please say a little more: at least {TEXT_MIN} characters."
    elif len(draft.text) > TEXT_MAX:
        draft.errors["text"] = f"Please keep it to {TEXT_MAX} characters (it has {len(draft.text):,})."
    elif not WORD.search(draft.text):
        draft.errors["text"] = "Type your question in words."
    if len(draft.context) > CONTEXT_MAX:
        draft.errors["context"] = f"Please keep the context to {CONTEXT_MAX:,} characters (it has {len(draft.context):,})."
    return draft


def load_word_list(path: str | Path | None = None) -> frozenset[str]:
    """The site's word list: one word or phrase per line, `#` starts a comment."""
    lines = Path(path or WORD_LIST).read_text(encoding="utf-8").splitlines()
    return frozenset(_folded(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip())


def _folded(text: str) -> str:
    return " ".join(WORD.findall(fold_accents(text).casefold()))


def listed_words(text: str, word_list: frozenset[str]) -> list[str]:
    """The entries of `word_list` that `text` holds as whole words (accents and case
    aside): "casino" is found in "Casinos?"-free text only as the word "casino"."""
    padded = f" {_folded(text)} "
    return sorted(entry for entry in word_list if f" {entry} " in padded)


# --- what it may already be -------------------------------------------------------------------

# How readers introduce a claim they paste; not part of what it asks.
_CLAIM_OPENING = re.compile(r"^(?:fact[- ]?check|true or false|claim|is it true that|is it true)\b[\s:,-]*")


def _significant(key: str) -> frozenset[str]:
    return frozenset(w for w in WORD.findall(key) if w not in STOP_WORDS)


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def close(a_key: str, b_key: str) -> bool:
    """Whether two question keys ask the same thing, once a claim's opening ("Fact
    check:") is left aside: the same words apart from small ones like "an" and "it",
    in any order; or all but one the same, and that one misspelt or plural ("ostritch",
    "ostriches"), never another word ("bats" and "cats" are two questions)."""
    a_key, b_key = _CLAIM_OPENING.sub("", a_key), _CLAIM_OPENING.sub("", b_key)
    words_a, words_b = _significant(a_key), _significant(b_key)
    if a_key == b_key or (words_a and words_a == words_b):
        return True
    only_a, only_b = words_a - words_b, words_b - words_a
    if len(only_a) != 1 or len(only_b) != 1:
        return False
    (a_word,), (b_word,) = only_a, only_b
    return (min(len(a_word), len(b_word)) >= SPELT_ALIKE_LENGTH and _ratio(a_word, b_word) >= SPELT_ALIKE
            and _ratio(a_key, b_key) >= CLOSE_ENOUGH)


def offers(session: Session, text: str, limit: int = OFFERED) -> list[Hit]:
    """The existing questions closest to `text` by search, answered ones first (the
    order search ranked them in, otherwise)."""
    return sorted(search.answers_like(session, text, limit, status=None), key=lambda hit: not hit.answered)


def same_question(session: Session, draft: Draft, hits: list[Hit]) -> Question | None:
    """The public question this draft already is: the same key, or a very close offer."""
    found = session.scalar(select(Question).where(Question.text_key == draft.key).limit(1))
    if found is not None:
        return found
    for hit in hits:
        if close(draft.key, text_key(hit.question.striptags())):  # the hit marks its matched words
            return session.scalar(select(Question).where(Question.slug == hit.slug))
    return None


def category_guess(session: Session, hits: list[Hit]) -> Category | None:
    """The category most of the offers share (the first one's, on a tie); editors may change it."""
    slugs = Counter(hit.category for hit in hits if hit.category)
    if not slugs:
        return None
    best = max(slugs.items(), key=lambda item: (item[1], -[h.category for h in hits].index(item[0])))[0]
    return session.scalar(select(Category).where(Category.slug == best))


# --- limits -----------------------------------------------------------------------------------

def address_key(secret: str, address: str) -> str:
    """A keyed hash of the asker's address: enough to count their asks today, not to find them."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:40]


def asked_today(session: Session, *, user_id: int | None, address: str | None, now: dt.datetime) -> int:
    """Asks kept in the last 24 hours from this account (or, logged out, this address)."""
    who = Ask.user_id == user_id if user_id is not None else Ask.address_key == address
    return session.scalar(select(func.count()).select_from(Ask).where(who, Ask.created_at > now - DAY)) or 0


def next_ask_at(session: Session, *, user_id: int | None, address: str | None, now: dt.datetime,
                cap: int) -> dt.datetime:
    """When this asker may ask again: 24 hours after the ask that put them at the cap."""
    who = Ask.user_id == user_id if user_id is not None else Ask.address_key == address
    recent = list(session.scalars(select(Ask.created_at).where(who, Ask.created_at > now - DAY)
                                  .order_by(Ask.created_at.desc()).limit(cap)))
    return (recent[-1] + DAY) if len(recent) >= cap else now


def trusted(session: Session, user_id: int | None, after: int, now: dt.datetime) -> bool:
    """Whether this account's asks open without review: `after` of them opened by an
    editor (0 turns trust off) and none declined in the last DECLINED_LATELY_DAYS."""
    if user_id is None or after <= 0:
        return False
    # Opened by someone else: an editor, or the command line (decided_by empty); an ask
    # the account opened itself, being trusted, is not more evidence of trust.
    opened = session.scalar(select(func.count()).select_from(Ask).where(
        Ask.user_id == user_id, Ask.state.in_((OPEN, MERGED)), Ask.decided_at.is_not(None),
        or_(Ask.decided_by.is_(None), Ask.decided_by != user_id))) or 0
    if opened < after:
        return False
    declined = session.scalar(select(func.count()).select_from(Ask).where(
        Ask.user_id == user_id, Ask.state == DECLINED,
        Ask.decided_at > now - dt.timedelta(days=DECLINED_LATELY_DAYS))) or 0
    return declined == 0


# --- keeping an ask ---------------------------------------------------------------------------

class KeyTaken(ValueError):
    """The form's key belongs to another asker's ask."""


def by_key(session: Session, form_key: str) -> Ask | None:
    return session.scalar(select(Ask).where(Ask.form_key == form_key))


def keep(session: Session, draft: Draft, *, form_key: str, requester: str, user_id: int | None,
         address: str | None, category: Category | None, flagged: list[str], now: dt.datetime | None = None) -> Ask:
    """Keep a checked ask, pending (the caller commits). The same form key again returns
    the ask it already made; another asker's key raises KeyTaken."""
    if draft.errors:
        raise ValueError("an ask with errors is not kept")
    existing = by_key(session, form_key)
    if existing is None:
        ask = Ask(form_key=form_key, text=draft.text, text_key=draft.key, context=draft.context or None,
                  user_id=user_id, address_key=None if user_id else address, requester=requester, state=PENDING,
                  category_id=category.id if category else None, flagged=", ".join(flagged)[:200] or None,
                  created_at=now or utcnow())
        try:
            with session.begin_nested():
                session.add(ask)
            return ask
        except IntegrityError:  # the same form, sent again at the same moment
            existing = by_key(session, form_key)
            if existing is None:
                raise
    if existing.requester != requester:
        raise KeyTaken(form_key)
    return existing


def request_for(session: Session, question: Question, requester: str) -> bool:
    """Count the asker's request for an unanswered question's answer (once per asker)."""
    if question.status != UNANSWERED:
        return False
    if session.scalar(select(AnswerRequest.id).where(AnswerRequest.question_id == question.id,
                                                     AnswerRequest.requester == requester)) is not None:
        return False
    session.add(AnswerRequest(question_id=question.id, requester=requester))
    answer_requested.send(session, question_id=question.id, requester=requester)
    return True


def free_slug(session: Session, text: str, wanted: str | None = None) -> str:
    """`wanted` (or the text's slug), with -2, -3… added until no question has it."""
    base = slugify(wanted or text)
    # Asked for by name, a few at a time: `LIKE 'base-%'` read every slug at 1,000,000
    # questions (a prefix LIKE uses the index only under the C collation).
    first = 1
    while True:
        candidates = [base if n == 1 else f"{base[: 80 - len(str(n)) - 1]}-{n}" for n in range(first, first + 20)]
        taken = set(session.scalars(select(Question.slug).where(Question.slug.in_(candidates))))
        free = [slug for slug in candidates if slug not in taken]
        if free:
            return free[0]
        first += 20


# --- the editors' decisions -------------------------------------------------------------------

class DecisionRefused(ValueError):
    """A decision that cannot be taken as sent; `errors` by field, nothing changed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


_DECIDED = "This question has been decided already."
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _take(session: Session, ask: Ask, now: dt.datetime) -> bool:
    """Take a pending ask for this decision, once. Of two editors deciding it at the same
    moment (on two app servers), the second's UPDATE waits for the first to commit, then
    matches nothing: it is told the ask was decided, instead of making a second question."""
    taken = session.execute(update(Ask).where(Ask.id == ask.id, Ask.state == PENDING, Ask.decided_at.is_(None))
                            .values(decided_at=now).execution_options(synchronize_session=False))
    return taken.rowcount == 1


def _decided(ask: Ask, state: str, editor_id: int | None, now: dt.datetime) -> None:
    ask.state = state
    ask.decided_by = editor_id
    ask.decided_at = now


def _join(session: Session, ask: Ask, question: Question, state: str, editor_id: int | None,
          now: dt.datetime) -> None:
    _decided(ask, state, editor_id, now)
    ask.question_id = question.id
    request_for(session, question, ask.requester)


def _with_same_key(session: Session, ask: Ask, now: dt.datetime) -> list[Ask]:
    """Other pending asks of the same text, taken to be decided with this one (any that
    another decision holds are left to it)."""
    others = session.scalars(select(Ask).where(Ask.text_key == ask.text_key, Ask.state == PENDING,
                                               Ask.id != ask.id).order_by(Ask.id)).all()
    return [other for other in others if _take(session, other, now)]



def open_ask(session: Session, ask: Ask, *, editor_id: int | None, category_slug: str | None = None,
             slug: str | None = None, now: dt.datetime | None = None) -> Question:
    """Make the ask a public unanswered question (or join the question that already has
    its text); pending asks of the same text join it too. The caller commits."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    if ask.state != PENDING:
        errors["state"] = _DECIDED
    category = ask.category
    if category_slug is not None:
        category = session.scalar(select(Category).where(Category.slug == category_slug)) if category_slug else None
        if category_slug and category is None:
            errors["category"] = "Choose one of the categories."
    slug = (slug or "").strip().lower()
    if slug and (not _SLUG.match(slug) or len(slug) > 80):
        errors["slug"] = "A web address name is lower-case letters, digits and single hyphens, up to 80."
    elif slug and session.scalar(select(Question.id).where(Question.slug == slug)) is not None:
        errors["slug"] = "Another question has this web address name; choose another."
    if errors:
        raise DecisionRefused(errors)
    if not _take(session, ask, now):
        raise DecisionRefused({"state": _DECIDED})
    question = session.scalar(select(Question).where(Question.text_key == ask.text_key).limit(1))
    if question is None:
        question = Question(slug=slug or free_slug(session, ask.text), text=ask.text, text_key=ask.text_key,
                            status=UNANSWERED, category_id=category.id if category else None)
        try:
            with session.begin_nested():
                session.add(question)
        except IntegrityError:  # another question took the address between our look and now
            raise DecisionRefused({"slug": "Another question was given this web address name just now; "
                                           "please decide again."}) from None
        state = OPEN
    else:
        state = MERGED
    for one in [ask, *_with_same_key(session, ask, now)]:
        _join(session, one, question, state if one is ask else MERGED, editor_id, now)
    session.flush()
    return question


def merge(session: Session, ask: Ask, into_slug: str, *, editor_id: int | None, now: dt.datetime | None = None) -> Question:
    """The ask is another wording of an existing question: it becomes a request for that
    question's answer, and its asker is told which question it joined."""
    if ask.state != PENDING:
        raise DecisionRefused({"state": _DECIDED})
    into_slug = (into_slug or "").strip().lower()
    question = session.scalar(select(Question).where(Question.slug == into_slug)) if _SLUG.match(into_slug) else None
    if question is None:
        raise DecisionRefused({"into": "Name an existing question by its web address name (the part after /q/)."})
    now = now or utcnow()
    if not _take(session, ask, now):
        raise DecisionRefused({"state": _DECIDED})
    for one in [ask, *_with_same_key(session, ask, now)]:
        _join(session, one, question, MERGED, editor_id, now)
    session.flush()
    return question


def decline(session: Session, ask: Ask, reason: str, *, editor_id: int | None, now: dt.datetime | None = None) -> None:
    """Decline the ask; the reason is shown to the asker."""
    if ask.state != PENDING:
        raise DecisionRefused({"state": _DECIDED})
    reason = clean_line(reason or "")
    if not reason:
        raise DecisionRefused({"reason": "Say why, in words the asker will read."})
    if len(reason) > REASON_MAX:
        raise DecisionRefused({"reason": f"Keep the reason to {REASON_MAX} characters (it has {len(reason)})."})
    now = now or utcnow()
    if not _take(session, ask, now):
        raise DecisionRefused({"state": _DECIDED})
    ask.reason = reason
    _decided(ask, DECLINED, editor_id, now)
    session.flush()


# --- reading asks -----------------------------------------------------------------------------

FILTERS = (PENDING, OPEN, MERGED, DECLINED, "all")


def queue(session: Session, state: str, number: int, size: int) -> Page | None:
    """Page `number` of the asks in `state` ("all": every one): pending ones oldest
    first, as they wait; decided ones newest first."""
    statement = select(Ask).options(joinedload(Ask.question), joinedload(Ask.category))
    if state != "all":
        statement = statement.where(Ask.state == state)
    order = (Ask.created_at, Ask.id) if state == PENDING else (Ask.created_at.desc(), Ask.id.desc())
    return paginate(session, statement.order_by(*order), number, size)


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Ask).where(Ask.state == PENDING)) or 0


def asked_by(session: Session, user_id: int, limit: int = 50) -> list[Ask]:
    """An account's asks, newest first, with what became of them."""
    return list(session.scalars(select(Ask).options(joinedload(Ask.question)).where(Ask.user_id == user_id)
                                .order_by(Ask.created_at.desc(), Ask.id.desc()).limit(limit)))


@account_deleted.connect
def forget(session: Session, user_id: int) -> None:
    """A deleted account's pending asks are withdrawn (nobody is waiting for them); its
    decided ones stay, as the questions they made stay, no longer tied to the account."""
    session.execute(delete(Ask).where(Ask.user_id == user_id, Ask.state == PENDING))
    session.execute(update(Ask).where(Ask.user_id == user_id).values(user_id=None))
