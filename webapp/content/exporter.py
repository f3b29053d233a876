"""`flask content export`: write file-backed questions back as answer files.

The writer is canonical (fixed YAML style, one blank line between parts), so a folder
that was exported once comes back byte for byte from import-then-export.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import Question, RelatedLink


class IndentedDumper(yaml.SafeDumper):
    """Indent list items under their key ("  - title: …"), as the format shows."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


class _Word(str):
    """A value written as a plain word even where YAML would read it as a boolean
    (`verdict: false`); the parser reads such words back as text."""


def _represent_word(dumper: yaml.SafeDumper, value: _Word):
    tag = "tag:yaml.org,2002:bool" if value in ("true", "false") else "tag:yaml.org,2002:str"
    return dumper.represent_scalar(tag, str(value))


IndentedDumper.add_representer(_Word, _represent_word)


def _front_matter(question: Question) -> dict:
    values = {
        "question": question.text,
        "slug": question.slug,
        "category": question.category.slug if question.category else None,
        "checked_on": question.checked_on,
        "status": question.status,
        "claim": question.claim,
        "verdict": _Word(question.verdict) if question.verdict else None,
        "claimant": question.claimant,
        "claim_date": question.claim_date,
        "sources": [
            {k: v for k, v in (("title", s.title), ("url", s.url), ("publisher", s.publisher),
                                ("published", s.published)) if v is not None}
            for s in question.sources
        ],
        "related": [_related_entry(link) for link in question.curated_links],
    }
    keys = (question.file_keys or "question,slug,category,checked_on,sources,related").split(",")
    # The claim's keys only where the question has them (a file may name them and an
    # editor remove the claim since).
    return {key: values[key] for key in keys if key in values
            and not (key in ("claim", "verdict", "claimant", "claim_date") and values[key] is None)}


def _related_entry(link: RelatedLink) -> str | dict:
    return link.written_as if link.written_as else {"slug": link.to_question.slug}


def render_file(question: Question) -> str:
    front = yaml.dump(_front_matter(question), Dumper=IndentedDumper, sort_keys=False,
                      allow_unicode=True, default_flow_style=False, width=10_000)
    parts = [question.summary] + [f"## {s.heading}\n{s.body}" for s in question.sections]
    body = "\n\n".join(p for p in parts if p)
    return f"---\n{front}---\n" + (f"{body}\n" if body else "")


def exportable_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Question).where(Question.file_name.is_not(None)))


# Questions read at a time: memory stays that of one batch at any size (a million
# questions held at once was several GB).
BATCH = 500


def export_folder(session: Session, folder: Path, progress: Callable[[str], None] | None = None) -> int:
    """Write one file per file-backed question; return how many were written. The
    questions stream in batches (a server-side cursor on PostgreSQL) and each is let go
    once written: the session's identity map holds only what is still referenced."""
    folder.mkdir(parents=True, exist_ok=True)
    questions = session.scalars(
        select(Question)
        .where(Question.file_name.is_not(None))
        .options(selectinload(Question.sections), selectinload(Question.sources),
                 selectinload(Question.links).selectinload(RelatedLink.to_question),
                 selectinload(Question.category))
        .order_by(Question.file_name)
        .execution_options(yield_per=BATCH)
    )
    written = 0
    for question in questions:
        (folder / question.file_name).write_text(render_file(question), encoding="utf-8")
        written += 1
        if progress:
            progress(question.file_name)
    return written
