"""`flask content import`: validate a folder of answer files, then write them in one go.

Validation (parsing, slug clashes, related slugs that name nothing) happens before
anything is written, so a rejected file writes nothing; the accepted files are then
written in a single transaction, so a failure half-way leaves the database as it was.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from blinker import Namespace
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from webapp.answers.models import (
    UNANSWERED,
    Category,
    Question,
    RelatedLink,
    Section,
    Source,
)
from webapp.content.naming import slugify, text_key
from webapp.content.parser import AnswerFile, ContentError, RelatedEntry, parse

Progress = Callable[[str], None]
# Sent inside the import's transaction, after the changed questions are written (links
# included) and before the commit, with `changed`: (question, answer file) pairs. The
# history of answers (webapp/revisions) records an "imported from FILE" revision for
# each; content does not import it.
written = Namespace().signal("answers-written")
SKIPPED_NAMES = {"readme.md"}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)  # the questions created or updated

    def summary(self) -> str:
        return (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.rejected)}"
        )


def answer_files(folder: Path) -> list[Path]:
    """The folder's answer files in name order; a README is documentation, not an answer."""
    return sorted(p for p in folder.glob("*.md") if p.is_file() and p.name.lower() not in SKIPPED_NAMES)


def read_file(path: Path) -> AnswerFile:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise ContentError(line, "the file is not UTF-8 text") from None
    return parse(path.name, text)


class _Batch:
    """The accepted files of one import, checked against each other and the database."""

    def __init__(self, session: Session, report: ImportReport):
        self.session = session
        self.report = report
        self.files: dict[str, AnswerFile] = {}

    def add(self, answer: AnswerFile) -> None:
        clash = self.files.get(answer.slug)
        if clash:
            raise ContentError(answer.slug_line, f"slug '{answer.slug}' is already used by {clash.name}")
        self.files[answer.slug] = answer

    def reject(self, answer: AnswerFile, error: ContentError) -> None:
        self.files.pop(answer.slug, None)
        self.report.rejected.append(f"{answer.name}:{error.line}: {error.rule}")

    def _known_slugs(self) -> set[str]:
        """Of the slugs the files' related entries name, those that are questions: the
        stored ones asked for by name (reading every slug took seconds and 60 MB at
        1,000,000 questions), and the batch's own."""
        named = sorted({entry.slug for answer in self.files.values() for entry in answer.related if entry.slug})
        stored: set[str] = set()
        for start in range(0, len(named), 1000):
            stored.update(self.session.scalars(select(Question.slug).where(
                Question.slug.in_(named[start : start + 1000]))))
        return stored | set(self.files)

    def _by_text(self) -> dict[str, str]:
        """The batch's questions by their text's key: each entry written as a text is
        looked up here, not compared with every file (quadratic: 2,000 files took 4.9 s
        to check, 10,000 would take minutes; docs/performance.md)."""
        slugs: dict[str, str] = {}
        for other in self.files.values():
            slugs.setdefault(text_key(other.question), other.slug)  # the first file, as before
        return slugs

    def _target(self, entry: RelatedEntry, batch_texts: dict[str, str]) -> str:
        """An identity for what an entry points at, to catch duplicates and self-links."""
        if entry.slug:
            return f"slug:{entry.slug}"
        key = text_key(entry.text)
        if key in batch_texts:
            return f"slug:{batch_texts[key]}"
        found = self.session.scalar(select(Question.slug).where(Question.text_key == key).limit(1))
        return f"slug:{found}" if found else f"text:{key}"

    def _check_related(self, answer: AnswerFile, known, batch_texts: dict[str, str]) -> None:
        seen: set[str] = set()
        for entry in answer.related:
            if entry.slug and entry.slug not in known:
                raise ContentError(entry.line, f"related slug '{entry.slug}' names no question")
            target = self._target(entry, batch_texts)
            if target == f"slug:{answer.slug}":
                raise ContentError(entry.line, "a question cannot be related to itself")
            if target in seen:
                raise ContentError(entry.line, "this related question is listed twice")
            seen.add(target)

    def check_related(self) -> None:
        # Rejecting one file can leave another pointing at nothing: repeat until stable.
        changed = True
        while changed:
            changed = False
            known, batch_texts = self._known_slugs(), self._by_text()
            for answer in list(self.files.values()):
                try:
                    self._check_related(answer, known, batch_texts)
                except ContentError as error:
                    self.reject(answer, error)
                    changed = True


class _Writer:
    """Writes accepted files; all changes go into the caller's transaction."""

    def __init__(self, session: Session):
        self.session = session
        self.categories: dict[str, Category] = {}

    def category(self, slug: str) -> Category:
        if slug not in self.categories:
            found = self.session.scalar(select(Category).where(Category.slug == slug))
            if found is None:
                found = Category(slug=slug, name=slug.replace("-", " ").capitalize())
                self.session.add(found)
            self.categories[slug] = found
        return self.categories[slug]

    def find(self, answer: AnswerFile) -> Question | None:
        found = self.session.scalar(select(Question).where(Question.slug == answer.slug))
        if found is None:
            # A question first created from a related link, now given its own file.
            found = self.session.scalar(
                select(Question)
                .where(Question.text_key == text_key(answer.question), Question.file_name.is_(None))
                .limit(1)
            )
        return found

    def write_question(self, question: Question, answer: AnswerFile) -> None:
        question.slug = answer.slug
        question.text = answer.question
        question.text_key = text_key(answer.question)
        question.status = answer.status
        question.category = self.category(answer.category) if answer.category else None
        question.summary = answer.summary
        question.checked_on = answer.checked_on
        claim = answer.claim
        question.claim, question.verdict = (claim.claim, claim.verdict) if claim else (None, None)
        question.claimant, question.claim_date = (claim.claimant, claim.claim_date) if claim else (None, None)
        question.file_name = answer.name
        question.file_keys = ",".join(answer.keys)
        question.content_hash = answer.digest()
        if question.id is not None:
            self.session.execute(delete(Section).where(Section.question_id == question.id))
            self.session.execute(delete(Source).where(Source.question_id == question.id))
            self.session.expire(question, ["sections", "sources"])
        for position, (heading, body) in enumerate(answer.sections, start=1):
            self.session.add(Section(question=question, position=position, heading=heading, body=body))
        for number, src in enumerate(answer.sources, start=1):
            self.session.add(Source(question=question, number=number, title=src.title, url=src.url,
                                    publisher=src.publisher, published=src.published))

    def _unanswered(self, text: str) -> Question:
        key = text_key(text)
        found = self.session.scalar(select(Question).where(Question.text_key == key).limit(1))
        if found:
            return found
        base = slugify(text)
        slug, n = base, 1
        while self.session.scalar(select(Question.id).where(Question.slug == slug)):
            n += 1
            slug = f"{base[: 80 - len(str(n)) - 1]}-{n}"
        question = Question(slug=slug, text=text, text_key=key, status=UNANSWERED, summary="")
        self.session.add(question)
        self.session.flush()
        return question

    def write_links(self, question: Question, answer: AnswerFile) -> None:
        # Suggested links go too: they are computed again after the import.
        self.session.execute(delete(RelatedLink).where(RelatedLink.from_id == question.id))
        self.session.expire(question, ["links"])
        for position, entry in enumerate(answer.related, start=1):
            if entry.slug:
                target = self.session.scalar(select(Question).where(Question.slug == entry.slug))
            else:
                target = self._unanswered(entry.text)
            self.session.add(RelatedLink(from_id=question.id, to_id=target.id, position=position,
                                         written_as=entry.text))


def import_folder(session: Session, folder: Path, progress: Progress | None = None) -> ImportReport:
    """Import every answer file in `folder`; see docs/content-format.md."""
    report = ImportReport()
    batch = _Batch(session, report)
    tick = progress or (lambda name: None)
    for path in answer_files(folder):
        try:
            batch.add(read_file(path))
        except ContentError as error:
            report.rejected.append(f"{path.name}:{error.line}: {error.rule}")
        tick(path.name)
    batch.check_related()
    _write(session, list(batch.files.values()), report, tick)
    return report


def _write(session: Session, answers: Iterable[AnswerFile], report: ImportReport, tick: Progress) -> None:
    writer = _Writer(session)
    changed: list[tuple[Question, AnswerFile]] = []
    try:
        for answer in answers:
            question = writer.find(answer)
            if question and question.content_hash == answer.digest() and question.file_name == answer.name:
                report.unchanged.append(answer.name)
            else:
                (report.updated if question else report.created).append(answer.name)
                question = question or Question()
                if question.id is None:
                    session.add(question)
                writer.write_question(question, answer)
                changed.append((question, answer))
            tick(answer.name)
        session.flush()
        for question, answer in changed:
            writer.write_links(question, answer)
        if changed:
            session.flush()
            written.send(session, changed=changed)
        report.changed_ids = [question.id for question, _answer in changed]
        session.commit()
    except Exception:
        session.rollback()
        raise


# --- one answer at a time (the editors' desk) ------------------------------------------------

class _SlugsInDatabase:
    """`slug in known` asked of the database one slug at a time, not by loading them all."""

    def __init__(self, session: Session, extra: str):
        self.session, self.extra = session, extra

    def __contains__(self, slug: str) -> bool:
        return slug == self.extra or self.session.scalar(
            select(Question.id).where(Question.slug == slug).limit(1)) is not None


def check_one(session: Session, answer: AnswerFile, question: Question | None) -> None:
    """The rules an import checks across files, for one answer about to be written over
    `question` (None: a new one): its slug is not another question's, and its related
    entries name questions that exist, not itself and not twice. Raises ContentError."""
    owner = session.scalar(select(Question.id).where(Question.slug == answer.slug).limit(1))
    if owner is not None and (question is None or owner != question.id):
        raise ContentError(answer.slug_line, f"slug '{answer.slug}' is already used by another question")
    batch = _Batch(session, ImportReport())
    batch.files[answer.slug] = answer
    batch._check_related(answer, _SlugsInDatabase(session, answer.slug), batch._by_text())


def write_one(session: Session, answer: AnswerFile, question: Question | None) -> Question:
    """Write one checked answer over `question` (or as a new one) in the caller's
    transaction, exactly as an import writes it; not committed."""
    writer = _Writer(session)
    question = question or Question()
    if question.id is None:
        session.add(question)
    writer.write_question(question, answer)
    session.flush()
    writer.write_links(question, answer)
    session.flush()
    return question
