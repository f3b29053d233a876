"""Suggested related questions: "Want to dive deeper?" filled up to five from the text.

Curated links (from the content files) come first, in file order; the rest are the
answered questions most like this one (Whoosh more_like over the indexed content).
They are stored as related links of kind "suggested" and recomputed when content
changes (`flask content import`, `flask graph suggest`), never per request."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from webapp.answers.models import ANSWERED, CURATED, SUGGESTED, Question, RelatedLink
from webapp.search.documents import document
from webapp.search.index import SearchIndex

TARGET = 5  # entries in "Want to dive deeper?"
KEY_TERMS = 12


def _similar(searcher, question: Question, excluded: set[str], answered: frozenset[int], wanted: int) -> list[int]:
    """Ids of the answered questions most like `question`, best first."""
    docnum = searcher.document_number(id=str(question.id))
    if docnum is None:
        return []
    allowed = set(answered) - {n for n in (searcher.document_number(id=i) for i in excluded) if n is not None}
    if not allowed:
        return []
    text = document(question)["content"]
    hits = searcher.more_like(docnum, "content", text=text, top=wanted, numterms=KEY_TERMS, filter=allowed)
    return [int(hit["id"]) for hit in hits]


def refresh(session: Session, index: SearchIndex, ids: Iterable[int] | None = None,
            progress: Callable[[int], None] | None = None) -> int:
    """Recompute the suggestions of the given answered questions (all, by default)."""
    statement = select(Question).where(Question.status == ANSWERED).options(selectinload(Question.links))
    if ids is not None:
        statement = statement.where(Question.id.in_(list(ids)))
    changed = 0
    with index.searcher() as searcher:
        answered = frozenset(searcher.docs_for_query(_answered_query()))
        for question in session.scalars(statement).all():
            curated = [link for link in question.links if link.kind == CURATED]
            excluded = {str(question.id), *(str(link.to_id) for link in curated)}
            wanted = max(0, TARGET - len(curated))
            suggested = _similar(searcher, question, excluded, answered, wanted) if wanted else []
            session.execute(delete(RelatedLink).where(RelatedLink.from_id == question.id,
                                                      RelatedLink.kind == SUGGESTED))
            for offset, target in enumerate(suggested, start=len(curated) + 1):
                session.add(RelatedLink(from_id=question.id, to_id=target, position=offset, kind=SUGGESTED))
            changed += 1
            if progress:
                progress(1)
    session.commit()
    return changed


def _answered_query():
    from whoosh.query import Term

    return Term("status", ANSWERED)
