"""An answer being edited: the form's fields, the content file they make, and the
importer's rules applied to it, with each broken rule placed at its field or body line.

The form is the front matter as fields and the body as Markdown. `compose` writes them
as a content file (docs/content-format.md) and remembers which field each line came
from; `check` parses that file with the importer's own parser and cross-file rules, so
the desk accepts exactly what `flask content import` accepts."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from sqlalchemy.orm import Session

from webapp.answers.models import ANSWERED, Question
from webapp.content import importer
from webapp.content.exporter import IndentedDumper
from webapp.content.naming import slugify
from webapp.content.parser import KEYS, AnswerFile, ContentError, parse

SOURCE_FIELDS = ("title", "url", "publisher", "published")
CLAIM_FIELDS = ("claim", "verdict", "claimant", "claim_date")
MAX_ROWS = 100  # sources or related entries a form may carry; more is not a real answer


@dataclass
class Draft:
    """The form's values as text, kept exactly as typed until they are checked."""

    question: str = ""
    slug: str = ""
    category: str = ""
    checked_on: str = ""
    status: str = ANSWERED
    claim: str = ""  # the claim block (docs/content-format.md): empty when the answer checks no claim
    verdict: str = ""
    claimant: str = ""
    claim_date: str = ""
    sources: list[dict[str, str]] = field(default_factory=list)
    related: list[dict[str, str]] = field(default_factory=list)  # {"text": …} or {"slug": …, "text": title}
    body: str = ""
    keys: tuple[str, ...] = ()  # the front-matter keys the file had, so export keeps its shape

    @property
    def file_slug(self) -> str:
        return self.slug.strip() or slugify(self.question.strip() or "untitled")


def _source(title: str, url: str, publisher: str | None, published) -> dict[str, str]:
    return {"title": title, "url": url, "publisher": publisher or "",
            "published": published.isoformat() if published else ""}


def _body(summary: str, sections) -> str:
    """The body as the file has it: the summary, then a `## ` heading per section."""
    return "\n\n".join([summary] + [f"## {heading}\n{body}" for heading, body in sections]).strip()


def from_question(question: Question) -> Draft:
    """The form for a question as it stands."""
    return Draft(
        question=question.text, slug=question.slug,
        category=question.category.slug if question.category else "",
        checked_on=question.checked_on.isoformat() if question.checked_on else "",
        status=question.status,
        claim=question.claim or "", verdict=question.verdict or "", claimant=question.claimant or "",
        claim_date=question.claim_date.isoformat() if question.claim_date else "",
        sources=[_source(s.title, s.url, s.publisher, s.published) for s in question.sources],
        related=[{"text": link.written_as} if link.written_as else
                 {"slug": link.to_question.slug, "text": link.to_question.text} for link in question.curated_links],
        body=_body(question.summary, [(s.heading, s.body) for s in question.sections]),
        keys=tuple((question.file_keys or "").split(",")) if question.file_keys else (),
    )


def from_text(text: str) -> Draft:
    """A revision's file as form values (the exporter wrote it, so it parses; if it
    ever does not, an empty form, which merging treats as unknown)."""
    try:
        answer = parse("revision.md", text)
    except ContentError:
        return Draft()
    claim = answer.claim
    return Draft(
        question=answer.question, slug=answer.slug, category=answer.category or "",
        checked_on=answer.checked_on.isoformat() if answer.checked_on else "", status=answer.status,
        claim=claim.claim if claim else "", verdict=claim.verdict if claim else "",
        claimant=(claim.claimant or "") if claim else "",
        claim_date=claim.claim_date.isoformat() if claim and claim.claim_date else "",
        sources=[_source(s.title, s.url, s.publisher, s.published) for s in answer.sources],
        related=[{"slug": r.slug} if r.slug else {"text": r.text or ""} for r in answer.related],
        body=_body(answer.summary, answer.sections), keys=answer.keys)


_ROW = re.compile(r"^(sources|related)-(\d+)(?:-(\w+))?$")


def from_form(form) -> Draft:
    """The form as posted (a MultiDict). Rows come back in the order of their numbers."""
    rows: dict[str, dict[int, dict[str, str]]] = {"sources": {}, "related": {}}
    for name, value in form.items(multi=False):
        match = _ROW.match(name)
        if match and int(match.group(2)) < MAX_ROWS:
            kind, index, part = match.group(1), int(match.group(2)), match.group(3) or "text"
            rows[kind].setdefault(index, {})[part] = value
    sources = [{f: row.get(f, "").strip() for f in SOURCE_FIELDS} for _, row in sorted(rows["sources"].items())]
    related = [{k: v.strip() for k, v in row.items() if k in ("text", "slug") and v.strip()}
               for _, row in sorted(rows["related"].items())]
    keys = tuple(k for k in form.get("keys", "").split(",") if k in KEYS)
    return Draft(question=form.get("question", ""), slug=form.get("slug", ""), category=form.get("category", ""),
                 checked_on=form.get("checked_on", ""), status=form.get("status", ANSWERED),
                 **{name: form.get(name, "") for name in CLAIM_FIELDS},
                 sources=sources, related=[r for r in related if r], body=form.get("body", "").replace("\r\n", "\n"),
                 keys=keys)


# --- the buttons that change the form without saving -----------------------------------------

_ACTION = re.compile(r"^(add|remove|up|down)-(source|related)(?:-(\d+))?$")


def apply(draft: Draft, action: str, picked: dict[str, str] | None = None) -> bool:
    """Carry out a row button (add, remove, move up or down a source or related entry);
    False if `action` is none of them."""
    match = _ACTION.match(action or "")
    if not match:
        return False
    verb, kind, index = match.group(1), match.group(2), int(match.group(3) or 0)
    rows = draft.sources if kind == "source" else draft.related
    if verb == "add" and len(rows) < MAX_ROWS:
        if kind == "source":
            rows.append(dict.fromkeys(SOURCE_FIELDS, ""))
        elif picked:
            rows.append(picked)
        else:
            rows.append({"text": ""})
    elif verb == "remove" and index < len(rows):
        rows.pop(index)
    elif verb == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and index + 1 < len(rows):
        rows[index], rows[index + 1] = rows[index + 1], rows[index]
    return True


# --- the file the form makes, and where each of its lines came from ------------------------

def _front(draft: Draft) -> dict:
    answered = draft.status != "unanswered"
    values: dict = {"question": draft.question, "slug": draft.file_slug, "category": draft.category}
    if answered and draft.checked_on.strip():
        values["checked_on"] = draft.checked_on.strip()
    if draft.status != ANSWERED or "status" in draft.keys:
        values["status"] = draft.status
    # The claim block, field by field as typed (the parser says which one is missing).
    for name in CLAIM_FIELDS:
        if getattr(draft, name).strip():
            values[name] = getattr(draft, name).strip()
    if answered and draft.sources:
        values["sources"] = [{k: v for k, v in row.items() if v or k in ("title", "url")} for row in draft.sources]
    if draft.related:
        values["related"] = [{"slug": row["slug"]} if row.get("slug") else row.get("text", "") for row in draft.related]
    return values


def compose(draft: Draft) -> tuple[str, dict[int, str], int]:
    """The content file, each front-matter line's field (`question`, `sources-2-url`,
    `related-0`, …), and the line the body starts on."""
    front = yaml.dump(_front(draft), Dumper=IndentedDumper, sort_keys=False, allow_unicode=True,
                      default_flow_style=False, width=10_000)
    fields: dict[int, str] = {}
    key, item = "", -1
    for number, line in enumerate(front.splitlines(), start=2):  # line 1 is '---'
        top = re.match(r"^([a-z_]+):", line)
        if top:
            key, item = top.group(1), -1
            fields[number] = key
            continue
        if line.startswith("  - "):
            item += 1
        inner = re.match(r"^\s*-?\s*([a-z]+):", line)
        if key == "sources" and inner:
            fields[number] = f"sources-{item}-{inner.group(1)}"
        elif key in ("sources", "related"):
            fields[number] = f"{key}-{item}"
        else:
            fields[number] = key
    body_line = len(front.splitlines()) + 3
    body = draft.body.strip()
    return f"---\n{front}---\n" + (f"{body}\n" if body else ""), fields, body_line


@dataclass
class Problem:
    """A broken rule, where it is: a field name, or `body` with a line of the body."""

    field: str
    rule: str
    body_line: int | None = None

    @property
    def where(self) -> str:
        return f"line {self.body_line} of the answer: " if self.body_line else ""


_NAMED = re.compile(r"'(question|category|checked_on|slug|status|claim|verdict|claimant|claim_date|sources|related)'")


def _place(error: ContentError, fields: dict[int, str], body_line: int) -> Problem:
    if error.line >= body_line:
        return Problem("body", error.rule, error.line - body_line + 1)
    named = _NAMED.search(error.rule)
    if error.line <= 2 and named:  # a missing key is reported on the front matter's first line
        return Problem(named.group(1), error.rule)
    if "source" in error.rule and error.line <= 2:
        return Problem("sources", error.rule)
    return Problem(fields.get(error.line, "form"), error.rule)


def check(session: Session, draft: Draft, question: Question | None) -> AnswerFile | Problem:
    """The draft as the importer reads it, or the first rule it breaks (the importer
    stops at the first too, so the message is the one a file would get)."""
    text, fields, body_line = compose(draft)
    name = question.file_name if question is not None and question.file_name else f"{draft.file_slug}.md"
    try:
        answer = parse(name, text)
        importer.check_one(session, answer, question)
    except ContentError as error:
        return _place(error, fields, body_line)
    return answer
