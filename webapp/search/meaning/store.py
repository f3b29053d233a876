"""Writing question vectors, in the caller's transaction.

Both engines call `write` where they write a search document: the PostgreSQL engine in
the changing transaction, the Whoosh engine when it drains its outbox, and both when
rebuilding. A vector whose text and model are unchanged is not rewritten, so other
processes have nothing new to read."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import numpy as np
from sqlalchemy import Update, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from webapp.answers.models import Question
from webapp.clock import utcnow
from webapp.search.documents import BATCH, QuestionTexts, all_documents, documents_for, texts
from webapp.search.meaning import model
from webapp.search.meaning.models import QuestionMeaning

table = QuestionMeaning.__table__


VECTOR_BYTES = model.DIMENSIONS * 2  # float16


def to_bytes(vector: np.ndarray) -> bytes:
    return vector.astype("<f2").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """A stored vector as float32, its first DIMENSIONS only: one written before issue 18
    has all 256 of the model's, and is read as the model makes them now (its leading
    dimensions are the same numbers) until `flask search sync` writes it again."""
    return np.frombuffer(data[:VECTOR_BYTES], dtype="<f2").astype(np.float32)


def matrix_from_bytes(stored: list[bytes]) -> np.ndarray:
    """Stored vectors as the rows of one float32 matrix (one conversion, not one a row),
    each cut as `from_bytes` cuts it."""
    joined = b"".join(data[:VECTOR_BYTES] for data in stored)
    return np.frombuffer(joined, dtype="<f2").astype(np.float32).reshape(len(stored), model.DIMENSIONS)


def _digest(text: str) -> str:
    return hashlib.sha256(f"{model.MODEL}\n{text}".encode()).hexdigest()


def _upsert(connection: Connection, rows: list[dict]) -> None:
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.question_id],
        set_={c: insert.excluded[c] for c in ("vector", "model", "version", "changed_at")})
    connection.execute(statement, rows)


def write(connection: Connection, questions: Iterable[QuestionTexts], gone: Iterable[int] = ()) -> int:
    """Vectors for these questions (the changed ones only) and tombstones for the gone;
    the number of vectors computed."""
    by_id = {t.id: model.document_text(t) for t in questions}
    gone = sorted(set(gone) - set(by_id))
    now = utcnow()
    rows: list[dict] = []
    if by_id:
        stored = dict(connection.execute(
            select(table.c.question_id, table.c.version).where(table.c.question_id.in_(sorted(by_id)))).all())
        digests = {qid: _digest(text) for qid, text in by_id.items()}
        changed = [(qid, by_id[qid], digest) for qid, digest in sorted(digests.items()) if stored.get(qid) != digest]
        if changed:
            vectors = model.embed([text for _qid, text, _v in changed])
            rows += [{"question_id": qid, "vector": to_bytes(vector), "model": model.MODEL, "version": version,
                      "changed_at": now} for (qid, _text, version), vector in zip(changed, vectors, strict=True)]
    if gone:
        present = set(connection.scalars(select(table.c.question_id).where(
            table.c.question_id.in_(gone), table.c.vector.is_not(None))))
        rows += [{"question_id": qid, "vector": None, "model": model.MODEL, "version": "", "changed_at": now}
                 for qid in sorted(present)]
    if rows:
        _upsert(connection, rows)
    return sum(1 for r in rows if r["vector"] is not None)


def drift(connection: Connection) -> tuple[list[str], list[str]]:
    """(missing, stale) slugs: questions without a vector, or with one of another text or model."""
    stored = dict(connection.execute(select(table.c.question_id, table.c.version)
                                     .where(table.c.vector.is_not(None))).all())
    missing, stale = [], []
    with Session(bind=connection) as session:
        for t in all_documents(session, build=texts):
            version = stored.get(t.id)
            if version is None:
                missing.append(t.slug)
            elif version != _digest(model.document_text(t)):
                stale.append(t.slug)
    return missing, stale


def sweep_statement() -> Update:
    # NOT EXISTS, not NOT IN: PostgreSQL runs it as an anti-join. NOT IN over a million
    # ids does not fit work_mem as a hash, and became a scan of the question ids for
    # each vector (the planner's cost: 3.4e10; a rebuild at 1,000,000 never ended).
    return update(table).where(
        table.c.vector.is_not(None), ~exists().where(Question.id == table.c.question_id)
    ).values(vector=None, version="", changed_at=utcnow())


def sweep(connection: Connection) -> None:
    """Tombstones for vectors whose question is gone (deleted while nothing was listening)."""
    connection.execute(sweep_statement())


def missing(engine: Engine) -> list[int]:
    """Questions without a vector of this model (after migration 0017, a bulk load, or
    a release that changes the model)."""
    with Session(engine) as session:
        have = exists().where(table.c.question_id == Question.id, table.c.vector.is_not(None),
                              table.c.model == model.MODEL)
        return list(session.scalars(select(Question.id).where(~have).order_by(Question.id)))


def fill(engine: Engine, wanted: list[int], progress: Callable[[int], None] | None = None) -> int:
    """Vectors for these questions, a batch to a transaction; the number computed."""
    count = 0
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        with Session(engine) as session, session.begin():
            count += write(session.connection(), documents_for(session, chunk, build=texts).values())
        if progress:
            progress(len(chunk))
    with engine.begin() as connection:
        sweep(connection)
    return count
