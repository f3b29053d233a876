"""Readers' reports: reading the form, keeping a report, the editors' queue and their
decisions, what a reader sees of their own reports, and forgetting a deleted account.

Everything here takes plain values and a session; the routes read the request."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, joinedload

from webapp.accounts.models import User
from webapp.accounts.service import account_deleted, normalized_email
from webapp.clock import utcnow
from webapp.pagination import Page, paginate
from webapp.reports.models import ACCEPTED, DECLINED, FIXED, NEW, WHAT_MAX, Report
from webapp.revisions.models import Revision
from webapp.usertext import clean_line, clean_text  # noqa: F401 - the queue's callers read them here too

WHAT_MIN = 10
URL_MAX = 2000  # reader_report.source_url
EMAIL_MAX = 254  # reader_report.email
NOTE_MAX = 500  # reader_report.editor_note
DECISIONS = (ACCEPTED, DECLINED, FIXED)  # what an editor may set; a report starts as NEW
ALL = "all"  # the queue's filter that shows every state
FILTERS = (NEW, ACCEPTED, DECLINED, FIXED, ALL)
REVISION_CHOICES = 20  # the newest revisions offered for "fixed"


# --- reading what a reader or an editor wrote ------------------------------------------------

def web_address(url: str) -> bool:
    """Whether `url` is an http(s) address with a host (nothing else becomes a link)."""
    if not url or len(url) > URL_MAX or not url.isprintable() or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed port or IPv6 literal
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def _email_problem(email: str) -> bool:
    local, at, domain = email.partition("@")
    return (not at or not local or "." not in domain.strip(".") or len(email) > EMAIL_MAX
            or not email.isprintable() or any(c.isspace() for c in email) or "@" in domain)


@dataclass
class Draft:
    """A report as the form sent it, cleaned; `errors` says what is wrong, by field."""

    what: str = ""
    source_url: str = ""
    email: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def read(what: str, source_url: str = "", email: str = "", signed_in: bool = False) -> Draft:
    """The report form's values, cleaned and checked. A logged-in reader's email is not
    asked for (their account is used), so any sent is dropped."""
    draft = Draft(what=clean_text(what or ""), source_url=clean_line(source_url or ""),
                  email="" if signed_in else normalized_email(clean_line(email or "")))
    if not draft.what:
        draft.errors["what"] = "Tell us what is wrong or which source to add."
    elif len(draft.what) < WHAT_MIN:
        draft.errors["what"] = f"Please say a little more: at least {WHAT_MIN} characters."
    elif len(draft.what) > WHAT_MAX:
        draft.errors["what"] = f"Please keep it to {WHAT_MAX:,} characters (it has {len(draft.what):,})."
    if draft.source_url and not web_address(draft.source_url):
        draft.errors["source_url"] = "Enter a web address that starts with http:// or https://."
    if draft.email and _email_problem(draft.email):
        draft.errors["email"] = "Enter an email address like name@example.org, or leave it empty."
    return draft


def receive(session: Session, question_id: int, draft: Draft, user_id: int | None,
            now: dt.datetime | None = None) -> Report:
    """Keep a checked report (the caller commits). A logged-in reader's report is tied
    to their account and keeps no email of its own."""
    if draft.errors:
        raise ValueError("a report with errors is not kept")
    report = Report(question_id=question_id, what=draft.what, source_url=draft.source_url or None,
                    email=None if user_id else (draft.email or None), user_id=user_id, state=NEW,
                    created_at=now or utcnow())
    session.add(report)
    session.flush()
    return report


# --- the editors' queue --------------------------------------------------------------------

def _newest_first(statement: Select) -> Select:
    return statement.order_by(Report.created_at.desc(), Report.id.desc())


def queue(session: Session, state: str, number: int, size: int) -> Page | None:
    """Page `number` of the reports in `state` (or ALL), newest first, as rows of
    (Report, the reporter's account name or None); None past the last page."""
    statement = (select(Report, User.display_name).outerjoin(User, Report.user_id == User.id)
                 .options(joinedload(Report.question)))
    if state != ALL:
        statement = statement.where(Report.state == state)
    return paginate(session, _newest_first(statement), number, size)


def one(session: Session, report_id: int) -> tuple[Report, str | None] | None:
    """A report and its reporter's account name, as a queue row."""
    row = session.execute(select(Report, User.display_name).outerjoin(User, Report.user_id == User.id)
                          .options(joinedload(Report.question)).where(Report.id == report_id)).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class RevisionChoice:
    """A revision as the "fixed" choice names it (without its text, which is the whole answer)."""

    id: int
    question_id: int
    number: int
    kind: str
    note: str
    created_at: dt.datetime


def revision_choices(session: Session, question_ids: list[int] | set[int]) -> dict[int, list[RevisionChoice]]:
    """Each question's newest revisions (REVISION_CHOICES of them), newest first, for the
    queue's "fixed by" choice: one query for a whole page, as revisions.service.history
    orders them, without the answer texts."""
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    ranked = (select(Revision.id, Revision.question_id, Revision.number, Revision.kind, Revision.note,
                     Revision.created_at,
                     func.row_number().over(partition_by=Revision.question_id,
                                            order_by=Revision.number.desc()).label("rank"))
              .where(Revision.question_id.in_(ids)).subquery())
    rows = session.execute(select(ranked).where(ranked.c.rank <= REVISION_CHOICES)
                           .order_by(ranked.c.question_id, ranked.c.number.desc()))
    choices: dict[int, list[RevisionChoice]] = {i: [] for i in ids}
    for row in rows:
        choices[row.question_id].append(RevisionChoice(row.id, row.question_id, row.number, row.kind, row.note,
                                                       row.created_at))
    return choices


class DecisionRefused(ValueError):
    """A decision that cannot be taken as sent; `errors` by field, nothing changed."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def decide(session: Session, report: Report, state: str, note: str, revision_id: str | int | None,
           editor_id: int, now: dt.datetime | None = None) -> Report:
    """Set an editor's decision on `report`: accepted, declined, or fixed by one of its
    question's revisions. The note is for the reader. Raises DecisionRefused (and
    changes nothing) for another state, a missing revision or another question's."""
    errors: dict[str, str] = {}
    note = clean_line(note or "")
    if state not in DECISIONS:
        errors["state"] = "Choose accepted, declined or fixed."
    if len(note) > NOTE_MAX:
        errors["note"] = f"Keep the note to {NOTE_MAX} characters (it has {len(note)})."
    revision = None
    if state == FIXED:
        raw = str(revision_id or "").strip()
        if not raw:
            errors["revision"] = "Choose the revision that fixed it."
        else:
            revision = session.get(Revision, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
            if revision is None or revision.question_id != report.question_id:
                errors["revision"] = "Choose one of this answer’s revisions."
    if errors:
        raise DecisionRefused(errors)
    report.state = state
    report.editor_note = note or None
    report.revision_id = revision.id if revision else None
    report.decided_by = editor_id
    report.decided_at = now or utcnow()
    return report


def waiting(session: Session, limit: int) -> list[Report]:
    """New reports, newest first, each with its question loaded (the desk's home)."""
    return list(session.scalars(_newest_first(select(Report).where(Report.state == NEW))
                                .options(joinedload(Report.question)).limit(limit)))


def waiting_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Report).where(Report.state == NEW)) or 0


# --- the reader's own reports ----------------------------------------------------------------

@dataclass(frozen=True)
class Mine:
    report: Report
    revision_number: int | None  # the revision that fixed it, if it is fixed


def of_user(session: Session, user_id: int) -> list[Mine]:
    """The reports a reader sent while logged in, newest first, with the number of the
    revision that fixed each (for the link to what changed)."""
    rows = session.execute(_newest_first(select(Report, Revision.number)
                                         .outerjoin(Revision, Report.revision_id == Revision.id)
                                         .options(joinedload(Report.question))
                                         .where(Report.user_id == user_id)))
    return [Mine(report, number) for report, number in rows]


@account_deleted.connect
def forget(session: Session, user_id: int) -> None:
    """A deleted account's reports stay for the editors, no longer tied to the account,
    and without the account's address where a report had been sent with it logged out."""
    session.execute(update(Report).where(Report.user_id == user_id).values(user_id=None, email=None))
    email = session.scalar(select(User.email).where(User.id == user_id))
    if email:
        session.execute(update(Report).where(Report.email == normalized_email(email)).values(email=None))
