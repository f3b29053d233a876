"""What a reader sees of their own reports on /account, and how old a report is in words.

Accounts stands below reports and must not import it, so the account page asks for
`my_reports()`, a template global that the reports blueprint puts on the app
(routes.py); a page of an app without reports simply has no such global."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, url_for
from flask_login import current_user

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.reports import service
from webapp.reports.models import ACCEPTED, DECLINED, FIXED
from webapp.templating import long_date


@dataclass(frozen=True)
class Outcome:
    question_text: str
    question_url: str
    sent_on: dt.date
    state: str
    words: str  # "Received", "Accepted — we are working on it", "Declined", "Fixed on 3 May 2026"
    note: str | None  # the editors' note, shown as it was written (escaped)
    link: str | None  # for a fix: what changed
    link_text: str | None


def _what_changed(slug: str, number: int | None) -> str:
    """The difference the fixing revision made, if the site can show it; else the
    answer's history; else the answer itself."""
    views = current_app.view_functions
    if number and number > 1 and "revisions.diff" in views:
        return url_for("revisions.diff", slug=slug, **{"from": number - 1, "to": number})
    if "revisions.history" in views:
        return url_for("revisions.history", slug=slug)
    return url_for("answers.question", slug=slug)


def outcome(mine: service.Mine) -> Outcome:
    report = mine.report
    question = report.question
    words, link, link_text = "Received", None, None
    note = report.editor_note
    if report.state == ACCEPTED:
        words = "Accepted — we are working on it"
    elif report.state == DECLINED:
        words = "Declined"
    elif report.state == FIXED:
        words = f"Fixed on {long_date((report.decided_at or report.created_at).date())}"
        link, link_text = _what_changed(question.slug, mine.revision_number), "see what changed"
    return Outcome(question.text, url_for("answers.question", slug=question.slug), report.created_at.date(),
                   report.state, words, note, link, link_text)


def my_reports() -> list[Outcome]:
    """The logged-in reader's reports with their outcomes, newest first (none logged out)."""
    if not current_user.is_authenticated:
        return []
    return [outcome(mine) for mine in service.of_user(db.session, current_user.id)]


def age(then: dt.datetime, now: dt.datetime | None = None) -> str:
    """How long ago, in the largest whole unit: "just now", "5 minutes ago", "3 days ago"."""
    seconds = max(0, int(((now or utcnow()) - then).total_seconds()))
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
                       ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"
