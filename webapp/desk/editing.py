"""Saving an answer from the desk: checked like an import, written like an import, and
kept as a revision, in one transaction; two editors never overwrite each other unseen.

Optimistic concurrency: the form carries the number of the revision it was opened on
(`base`). A save writes revision base + 1 only if base is still the latest; if another
editor saved meanwhile, nothing is written and the editor gets a `Conflict`: their
changes shown as a difference, and merged into the form where the two do not touch the
same field or lines (three-way, against the revision both started from). Two saves that
race past the check meet UNIQUE(question_id, number): the second is a conflict too."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup
from merge3 import Merge3
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.content import importer
from webapp.desk import drafts
from webapp.desk.drafts import Draft, Problem
from webapp.graph import suggestions
from webapp.revisions import service as revisions
from webapp.revisions.models import KINDS, NOTE_MAX, RECHECK, Revision

log = logging.getLogger(__name__)


@dataclass
class Saved:
    question: Question
    revision: Revision


@dataclass
class Conflict:
    """Another editor saved first. `draft` is the form to show again: theirs merged into
    yours where that was clear, yours where you both changed the same thing (`clashes`)."""

    theirs: Revision
    their_changes: Markup  # what they changed, from the revision you started from
    draft: Draft
    clashes: list[str] = field(default_factory=list)


def clean_note(note: str) -> str:
    """One line of plain text: control and format characters out, whitespace folded."""
    kept = "".join(c for c in note if unicodedata.category(c)[0] != "C" or c in " \t")
    return " ".join(kept.split())


def _checked_note(note: str, kind: str) -> Problem | str:
    if kind not in KINDS:
        return Problem("kind", "Choose whether this is a correction, an update or a re-check.")
    note = clean_note(note)
    if not note:
        return Problem("note", "Say in one line what changed and why; readers see it in the answer's history.")
    if len(note) > NOTE_MAX:
        return Problem("note", f"The note is longer than {NOTE_MAX} characters.")
    return note


def save(session: Session, draft: Draft, *, question: Question | None, base: int, kind: str, note: str,
         editor_id: int, now: dt.datetime | None = None) -> Saved | Problem | Conflict:
    """Check and save the draft as the next revision of `question` (None: a new answer)."""
    now = now or utcnow()
    checked_note = _checked_note(note, kind)
    if isinstance(checked_note, Problem):
        return checked_note
    answer = drafts.check(session, draft, question)
    if isinstance(answer, Problem):
        return answer
    current = revisions.latest_number(session, question.id if question is not None else None)
    if base != current:
        if question is None or current == 0 or not 0 <= base < current:
            return Problem("form", "This form names a revision this answer does not have; reload the editing page.")
        return _conflict(session, question, base, draft)
    question_id = question.id if question is not None else None
    try:
        if question is not None and current == 0 and question.answered:
            revisions.keep_baseline(session, question)  # what it said before anyone edited it here
        written = importer.write_one(session, answer, question)
        revision = revisions.record(session, written, kind, checked_note, editor_id, now=now)
        session.commit()
    except IntegrityError:
        # Another save got in between our check and our commit: it took this revision
        # number, or (a new answer) this slug.
        session.rollback()
        if question_id is None:
            return Problem("slug", f"slug '{draft.file_slug}' was taken by another question a moment ago")
        return _conflict(session, session.get(Question, question_id), base, draft)
    _suggest_again(session, written)
    return Saved(written, revision)


def _suggest_again(session: Session, question: Question) -> None:
    """Saving wrote the curated related links again and dropped the suggested ones: fill
    "Want to dive deeper?" up again for this answer, as an import does for its files.
    The save stands if this fails; `flask graph suggest` redoes it."""
    if not question.answered:
        return
    try:
        suggestions.refresh(session, ids=[question.id])
    except Exception:  # noqa: BLE001 - the answer is saved; its suggestions can wait
        session.rollback()
        log.warning("suggestions for question %s not refreshed after a desk save", question.id, exc_info=True)


def recheck(session: Session, question: Question, *, base: int, note: str, editor_id: int,
            now: dt.datetime | None = None) -> Saved | Problem | Conflict:
    """"Mark as re-checked": Checked on becomes today, with a note; the text stays."""
    now = now or utcnow()
    draft = drafts.from_question(question)
    draft.checked_on = now.date().isoformat()
    return save(session, draft, question=question, base=base, kind=RECHECK, note=note, editor_id=editor_id, now=now)


# --- when someone else saved first -------------------------------------------------------------

SCALARS = ("question", "category", "checked_on", "status", "claim", "verdict", "claimant", "claim_date")
LABELS = {"question": "the question", "category": "the category", "checked_on": "Checked on",
          "claim": "the claim", "verdict": "the verdict", "claimant": "who made the claim",
          "claim_date": "the claim's date",
          "status": "the status", "sources": "the sources", "related": "the related questions", "body": "the answer"}


def _lists_equal(one: list[dict], other: list[dict]) -> bool:
    """Two lists of rows alike, ignoring empty values and the title shown beside a related address."""
    def normal(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in row.items() if v and not (k == "text" and "slug" in row)} for row in rows]
    return normal(one) == normal(other)


def merge(base: Draft, mine: Draft, theirs: Draft) -> tuple[Draft, list[str]]:
    """Theirs merged into mine, field by field and the body line by line; the fields both
    changed differently stay mine and are named."""
    merged = dataclasses.replace(mine, sources=list(mine.sources), related=list(mine.related))
    clashes = []
    for name in SCALARS:
        b, m, t = (getattr(d, name).strip() for d in (base, mine, theirs))
        if m == b and t != b:
            setattr(merged, name, getattr(theirs, name))
        elif m != b and t != b and m != t:
            clashes.append(LABELS[name])
    for name in ("sources", "related"):
        b, m, t = (getattr(d, name) for d in (base, mine, theirs))
        if _lists_equal(m, b) and not _lists_equal(t, b):
            setattr(merged, name, list(t))
        elif not _lists_equal(m, b) and not _lists_equal(t, b) and not _lists_equal(m, t):
            clashes.append(LABELS[name])
    lines = Merge3(*(d.body.strip().splitlines(keepends=True) for d in (base, mine, theirs)))
    if any(group[0] == "conflict" for group in lines.merge_groups()):
        clashes.append(LABELS["body"])
    else:
        merged.body = "".join(lines.merge_lines())
    return merged, clashes


def _conflict(session: Session, question: Question, base: int, draft: Draft) -> Conflict:
    theirs = revisions.latest(session, question.id)
    started = revisions.by_number(session, question.id, base) if base else None
    base_text = started.text if started else ""
    merged, clashes = merge(drafts.from_text(base_text), draft, drafts.from_text(theirs.text))
    return Conflict(theirs=theirs, their_changes=revisions.diff_html(base_text, theirs.text), draft=merged,
                    clashes=clashes)
