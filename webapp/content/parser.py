"""Reads one answer file (the format in docs/content-format.md) into plain values.

Every rule broken raises ContentError with the line it is on, so a rejected file
can be reported as `name.md:14: citation [7] but only 5 sources`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import yaml

from webapp.answers.markdown import citations
from webapp.content.naming import SLUG_RE, slugify

KEYS = ("question", "slug", "category", "checked_on", "status", "claim", "verdict", "claimant", "claim_date",
        "sources", "related")
CLAIM_KEYS = ("claim", "verdict", "claimant", "claim_date")
# A claim's rating, from true to false; "unproven" where the evidence does not settle it.
VERDICTS = ("true", "mostly-true", "mixed", "mostly-false", "false", "unproven")
CLAIMANT_MAX = 120
SOURCE_KEYS = ("title", "url", "publisher", "published")
STATUSES = ("answered", "unanswered")
QUESTION_MAX = 300
_HEADING_NUMBER = re.compile(r"^\d+[.)](\s+|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class ContentError(ValueError):
    def __init__(self, line: int, rule: str):
        super().__init__(f"{line}: {rule}")
        self.line = line
        self.rule = rule


@dataclass(frozen=True)
class SourceEntry:
    title: str
    url: str
    publisher: str | None = None
    published: dt.date | None = None


@dataclass(frozen=True)
class ClaimEntry:
    """The statement an answer checks, as people say it, and its verdict."""

    claim: str
    verdict: str
    claimant: str | None = None
    claim_date: dt.date | None = None


@dataclass(frozen=True)
class RelatedEntry:
    """Either a question text (matched or created) or a slug that must exist."""

    text: str | None = None
    slug: str | None = None
    line: int = 0


@dataclass
class AnswerFile:
    name: str
    question: str
    slug: str
    category: str | None
    status: str
    checked_on: dt.date | None
    sources: list[SourceEntry] = field(default_factory=list)
    related: list[RelatedEntry] = field(default_factory=list)
    claim: ClaimEntry | None = None
    summary: str = ""
    sections: list[tuple[str, str]] = field(default_factory=list)
    keys: tuple[str, ...] = ()
    slug_line: int = 2

    def digest(self) -> str:
        """A fingerprint of everything the file says, to tell unchanged files apart."""
        data = asdict(self)
        data.pop("slug_line")
        for entry in data["related"]:
            entry.pop("line")
        blob = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, 1-based line where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        raise ContentError(1, "the file must start with a '---' front-matter line")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise ContentError(1, "the front matter is not closed by a '---' line")


class _Located:
    """Line numbers for front-matter keys and list items, from YAML's node marks."""

    def __init__(self, node: yaml.Node | None):
        self.node = node

    def line(self, *path: str | int) -> int:
        node = self.node
        line = node.start_mark.line if node else 0
        for step in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == step), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                node = node.value[step] if step < len(node.value) else None
            else:
                node = None
            if node is None:
                break
            line = node.start_mark.line
        return line + 2  # the front matter starts on the file's second line


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is our message, not a crash."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
# And leaves yes/no/true/false as text: `verdict: false` is the word "false", and a question
# that reads "No" is a question, not a boolean.
_Loader.add_constructor("tag:yaml.org,2002:bool", yaml.SafeLoader.construct_yaml_str)


def _load_front(front: str) -> tuple[dict, _Located]:
    try:
        node = yaml.compose(front, Loader=_Loader)
        data = yaml.load(front, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ContentError(2, "front matter is nested too deeply") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ContentError(line, f"front matter is not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise ContentError(2, "front matter must be a set of 'key: value' lines")
    return data, _Located(node)


def _text(value, line: int, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(line, f"{what} must be non-empty text")
    value = value.strip()
    if len(value) > limit:
        raise ContentError(line, f"{what} is longer than {limit} characters")
    return value


def _date(value, line: int, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ContentError(line, f"{what} must be an ISO date like 2025-11-08")


def _slug(value, line: int, what: str) -> str:
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise ContentError(line, f"{what} must be 1-80 characters of a-z, 0-9 and '-'")
    return value


def _url(value, line: int) -> str:
    url = _text(value, line, "source url", 2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(line, "source url must be an http or https address")
    return url


def _sources(data: dict, where: _Located) -> list[SourceEntry]:
    value = data.get("sources")
    if not value:
        raise ContentError(where.line("sources") if "sources" in data else 2,
                           "an answered question needs at least one source")
    if not isinstance(value, list):
        raise ContentError(where.line("sources"), "sources must be a list")
    entries = []
    for index, item in enumerate(value):
        line = where.line("sources", index)
        if not isinstance(item, dict):
            raise ContentError(line, f"source {index + 1} must have 'title' and 'url'")
        unknown = set(item) - set(SOURCE_KEYS)
        if unknown:
            raise ContentError(line, f"source {index + 1} has an unknown key '{sorted(unknown)[0]}'")
        published = item.get("published")
        entries.append(
            SourceEntry(
                title=_text(item.get("title"), where.line("sources", index, "title"), f"source {index + 1} title", 500),
                url=_url(item.get("url"), where.line("sources", index, "url")),
                publisher=None if item.get("publisher") is None else _text(
                    item["publisher"], where.line("sources", index, "publisher"), "publisher", 300
                ),
                published=None if published is None else _date(
                    published, where.line("sources", index, "published"), "published"
                ),
            )
        )
    return entries


def _related(value, where: _Located) -> list[RelatedEntry]:
    if not isinstance(value, list):
        raise ContentError(where.line("related"), "related must be a list")
    entries = []
    for index, item in enumerate(value):
        line = where.line("related", index)
        if isinstance(item, str):
            entries.append(RelatedEntry(text=_text(item, line, "a related question", QUESTION_MAX), line=line))
        elif isinstance(item, dict) and set(item) == {"slug"}:
            entries.append(RelatedEntry(slug=_slug(item["slug"], line, "a related slug"), line=line))
        else:
            raise ContentError(line, "a related entry must be a question or 'slug: …'")
    return entries


def _stripped(lines: list[str], first_line: int) -> tuple[str, int]:
    """Join and strip lines, returning the line the remaining text starts on."""
    blank = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return "\n".join(lines).strip(), first_line + blank


def _split_sections(body: str, first_line: int):
    """(summary, its line) and (heading, heading line, body, body line) per '## ' heading.

    Headings inside fenced code are not headings."""
    summary: list[str] = []
    sections: list[tuple[str, int, list[str]]] = []
    fence = None
    for offset, line in enumerate(body.split("\n")):
        marker = _FENCE.match(line)
        if marker:
            char = marker.group(1)[0]
            fence = None if fence == char else (fence or char)
        if fence is None and line.startswith("## "):
            sections.append((line[3:].strip(), first_line + offset, []))
        elif sections:
            sections[-1][2].append(line)
        else:
            summary.append(line)
    return _stripped(summary, first_line), [
        (heading, line, *_stripped(lines, line + 1)) for heading, line, lines in sections
    ]


def _check_citations(markdown: str, first_line: int, count: int) -> None:
    for number, offset in citations(markdown):
        if number < 1 or number > count:
            limit = f"only {count} source{'s' if count != 1 else ''}" if count else "no sources"
            raise ContentError(first_line + offset, f"citation [{number}] but {limit}")


def _identity(name: str, data: dict, where: _Located, has_body: bool) -> AnswerFile:
    """What every file's front matter says: known keys, question, slug, category, status."""
    for key in data:
        if key not in KEYS:
            raise ContentError(where.line(key), f"unknown front-matter key '{key}'")
    if "question" not in data:
        raise ContentError(2, "'question' is required")
    question = _text(data["question"], where.line("question"), "question", QUESTION_MAX)
    slug = _slug(data["slug"], where.line("slug"), "slug") if "slug" in data else slugify(question)
    if "category" not in data:
        raise ContentError(2, "'category' is required")
    category = _slug(data["category"], where.line("category"), "category")
    status = data.get("status") or ("answered" if has_body else "unanswered")
    if status not in STATUSES:
        raise ContentError(where.line("status"), "status must be 'answered' or 'unanswered'")
    return AnswerFile(
        name=name, question=question, slug=slug, category=category, status=status,
        checked_on=None, keys=tuple(data),
        slug_line=where.line("slug" if "slug" in data else "question"),
    )


def _claim(data: dict, where: _Located) -> ClaimEntry | None:
    """The optional claim block: `claim` and its `verdict` together, `claimant` and
    `claim_date` only with them."""
    if "claim" not in data:
        for key in ("verdict", "claimant", "claim_date"):
            if key in data:
                raise ContentError(where.line(key), f"'{key}' needs a 'claim' (the statement it is about)")
        return None
    claim = _text(data["claim"], where.line("claim"), "claim", QUESTION_MAX)
    if "verdict" not in data:
        raise ContentError(where.line("claim"), "a 'claim' needs a 'verdict'")
    verdict = data["verdict"]
    if verdict not in VERDICTS:
        raise ContentError(where.line("verdict"), f"verdict must be one of {', '.join(VERDICTS)}")
    claimant = None if data.get("claimant") is None else _text(
        data["claimant"], where.line("claimant"), "claimant", CLAIMANT_MAX)
    claim_date = None if data.get("claim_date") is None else _date(
        data["claim_date"], where.line("claim_date"), "claim_date")
    return ClaimEntry(claim, verdict, claimant, claim_date)


def _check_unanswered(data: dict, where: _Located, body: str, body_line: int) -> None:
    """An unanswered question is only a question: no answer, date, sources or verdict yet."""
    if body.strip():
        raise ContentError(body_line, "an unanswered question must not have an answer body")
    for key in ("checked_on", "sources", *CLAIM_KEYS):
        if key in data:
            raise ContentError(where.line(key), f"an unanswered question has no '{key}'")


def _checked_on(data: dict, where: _Located) -> dt.date:
    if "checked_on" not in data:
        raise ContentError(2, "'checked_on' is required for an answered question")
    return _date(data["checked_on"], where.line("checked_on"), "checked_on")


def _body(body: str, body_line: int, source_count: int) -> tuple[str, list[tuple[str, str]]]:
    """The summary and the '## ' sections, citing only sources the file lists."""
    (summary, summary_line), raw_sections = _split_sections(body, body_line)
    if not summary:
        raise ContentError(body_line, "the summary before the first '## ' heading is empty")
    _check_citations(summary, summary_line, source_count)
    sections = []
    for heading, line, section_body, body_start in raw_sections:
        heading = _HEADING_NUMBER.sub("", heading).strip()
        if not heading:
            raise ContentError(line, "a section heading is empty")
        if len(heading) > 300:
            raise ContentError(line, "a section heading is longer than 300 characters")
        if not section_body:
            raise ContentError(line, f"section '{heading}' has no body")
        _check_citations(section_body, body_start, source_count)
        sections.append((heading, section_body))
    return summary, sections


def parse(name: str, text: str) -> AnswerFile:
    """Parse and validate one file; raise ContentError naming the first broken rule."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    front, body, body_line = _split_front_matter(text)
    data, where = _load_front(front)
    answer = _identity(name, data, where, has_body=bool(body.strip()))
    if data.get("related") is not None:
        answer.related = _related(data["related"], where)
    if answer.status == "unanswered":
        _check_unanswered(data, where, body, body_line)
        return answer
    answer.checked_on = _checked_on(data, where)
    answer.claim = _claim(data, where)
    answer.sources = _sources(data, where)
    answer.summary, answer.sections = _body(body, body_line, len(answer.sources))
    return answer
