"""Recording revisions, reading an answer's history, and the site's corrections.

A revision is the whole answer as a content file (the exporter's canonical text), so a
diff between any two is a diff of what a reader could read, front matter included, and
a file exported today is the latest revision's text."""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from blinker import Namespace
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from webapp.accounts.models import User
from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.content.exporter import render_file
from webapp.content import importer
from webapp.revisions.models import CORRECTION, UPDATE, Revision

BEFORE_REVISIONS = "as it was before revisions were kept"
_UNANSWERED_FILE = re.compile(r"^status:\s*'?unanswered'?\s*$", re.MULTILINE)

# Sent (session, question=, revision=, answered_now=) when a revision is added, in its
# transaction. `answered_now`: this revision is the one that answered the question (the
# one before said it was not answered yet, or there was none). Following listens, to
# tell the question's followers.
recorded = Namespace().signal("revision-recorded")


def latest(session: Session, question_id: int) -> Revision | None:
    return session.scalar(select(Revision).where(Revision.question_id == question_id)
                          .order_by(Revision.number.desc()).limit(1))


def latest_number(session: Session, question_id: int | None) -> int:
    """The revision an editing form is based on: 0 for a question with none yet."""
    if question_id is None:
        return 0
    return session.scalar(select(func.coalesce(func.max(Revision.number), 0))
                          .where(Revision.question_id == question_id)) or 0


def by_number(session: Session, question_id: int, number: int) -> Revision | None:
    return session.scalar(select(Revision).where(Revision.question_id == question_id, Revision.number == number))


def history(session: Session, question_id: int) -> list[Revision]:
    """Newest first."""
    return list(session.scalars(select(Revision).where(Revision.question_id == question_id)
                                .order_by(Revision.number.desc())))


def record(session: Session, question: Question, kind: str, note: str, editor_id: int | None,
           number: int | None = None, now: dt.datetime | None = None) -> Revision:
    """Add revision `number` (the next one unless given) holding the question as it now
    stands in the session (flushed first, so its sections, sources and links are read
    back as written). Two saves that race for the same number: the second fails on
    UNIQUE(question_id, number) at flush or commit, and its caller reports a conflict."""
    now = now or utcnow()
    session.flush()
    session.expire(question, ["sections", "sources", "links", "category"])
    if number is None:
        number = latest_number(session, question.id) + 1
    before = by_number(session, question.id, number - 1) if number > 1 else None
    revision = Revision(question_id=question.id, number=number, kind=kind, note=note, editor_id=editor_id,
                        text=render_file(question), created_at=now)
    session.add(revision)
    if kind == CORRECTION:
        question.corrected_on = now.date()
    answered_now = question.answered and (before is None or bool(_UNANSWERED_FILE.search(before.text)))
    recorded.send(session, question=question, revision=revision, answered_now=answered_now)
    return revision


def keep_baseline(session: Session, question: Question) -> int:
    """A question that has content but no revision yet (imported before revisions were
    kept) gets revision 1 holding it as it is, so the first edit has something to
    compare with. The number the next revision takes."""
    current = latest_number(session, question.id)
    if current == 0 and question.id is not None:
        record(session, question, UPDATE, BEFORE_REVISIONS, None, number=1)
        return 2
    return current + 1


# --- differences ---------------------------------------------------------------------------

_TOKENS = re.compile(r"\s+|[^\s]+")


def _words(text: str) -> list[str]:
    return _TOKENS.findall(text)


def diff_html(before: str, after: str) -> Markup:
    """A readable word-level difference: removed words in <del>, added in <ins>, the rest
    as it was; line breaks kept. Everything escaped (revision text is editors' text)."""
    old, new = _words(before), _words(after)
    out: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(old[a1:a2]))))
            continue
        if a2 > a1:
            out.append(f"<del>{escape(''.join(old[a1:a2]))}</del>")
        if b2 > b1:
            out.append(f"<ins>{escape(''.join(new[b1:b2]))}</ins>")
    return Markup("".join(out))


def changed(before: str, after: str) -> bool:
    return before != after


# --- corrections across the site --------------------------------------------------------------

def corrections(session: Session, limit: int, offset: int = 0) -> list[Revision]:
    """Every correction, newest first (ix_revision_kind_created)."""
    return list(session.scalars(select(Revision).where(Revision.kind == CORRECTION)
                                .order_by(Revision.created_at.desc(), Revision.id.desc())
                                .limit(limit).offset(offset)))


def corrections_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Revision).where(Revision.kind == CORRECTION)) or 0


@importer.written.connect
def imported(session: Session, changed: list) -> None:
    """Each question an import created or changed gets a revision naming its file (its
    state before, if it had no revision yet, was not kept: the file is its history)."""
    for question, answer in changed:
        record(session, question, UPDATE, f"imported from {answer.name}", None)


# --- revisions as readers see them ---------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """A revision with who saved it and the revision before it, as history pages show it."""

    revision: Revision
    who: str | None  # "Imported", an editor's name, or None for an account deleted since
    previous: int | None  # the number of the revision before it (the highest lower one)


def _names(session: Session, shown: list[Revision]) -> dict[int, str]:
    """The names of the editors who saved `shown`, in one query; deleted accounts have none."""
    editors = {r.editor_id for r in shown if r.editor_id is not None}
    if not editors:
        return {}
    return dict(session.execute(select(User.id, User.display_name)
                                .where(User.id.in_(editors), User.deleted_at.is_(None))).all())


def described(session: Session, shown: list[Revision]) -> list[Entry]:
    """Each revision with its editor's name (one query for all) and the one before it."""
    names = _names(session, shown)
    earlier = aliased(Revision)
    before = select(func.max(earlier.number)).where(earlier.question_id == Revision.question_id,
                                                    earlier.number < Revision.number).scalar_subquery()
    previous = dict(session.execute(select(Revision.id, before).where(Revision.id.in_([r.id for r in shown]))).all()) \
        if shown else {}
    return [Entry(revision, "Imported" if revision.editor_id is None else (names.get(revision.editor_id) or None),
                  previous.get(revision.id)) for revision in shown]


def history_entries(session: Session, question_id: int) -> list[Entry]:
    """A question's revisions, newest first, each knowing the one before it."""
    shown = history(session, question_id)
    names = _names(session, shown)
    return [Entry(revision, "Imported" if revision.editor_id is None else (names.get(revision.editor_id) or None),
                  shown[index + 1].number if index + 1 < len(shown) else None)
            for index, revision in enumerate(shown)]


def correction_entries(session: Session, limit: int, offset: int = 0) -> list[Entry]:
    """A page of the site's corrections, newest first."""
    return described(session, corrections(session, limit, offset))
