"""A deterministic synthetic corpus for benchmarks: `flask demo synth --count N`.

Question, summary and section lengths are like the demo content's; words are drawn
from a made-up vocabulary with Zipf-like frequencies (a few words very common, most
rare), so search sees realistic posting-list lengths. Rows go in in batches, bypassing
the ORM's per-object work (and the search outbox: the command rebuilds the index at
the end instead): on PostgreSQL with COPY, elsewhere with bulk inserts. The same seed
makes the same rows either way: one code path makes the rows, a writer puts them in.
The readers' side (accounts, pledges, daily signals) is webapp/synthetic/readers.py."""
from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from operator import itemgetter

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from webapp.answers import cache, counts
from webapp.answers.models import ANSWERED, UNANSWERED, Category, Question, RelatedLink, Section, Source
from webapp.clock import utcnow
from webapp.content.naming import text_key
from webapp.database import advance_sequences

SYLLABLES = ("ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me mi mo mu "
             "na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo "
             "za ze zi zo ar el in on ur").split()
STARTS = ("Does", "Is", "Can", "Do", "Why does", "How does", "Are", "What makes", "Should", "Will")
CATEGORIES = ("science health history food animals technology space money law language sport music "
              "weather travel home work family nature art books").split()
BATCH = 1000


class Corpus:
    def __init__(self, seed: int = 1, vocabulary: int = 30_000):
        self.random = random.Random(seed)
        words = {"".join(self.random.choices(SYLLABLES, k=self.random.choice((2, 3, 3, 4)))) for _ in range(vocabulary * 2)}
        self.words = sorted(words)[:vocabulary]
        self.random.shuffle(self.words)
        weights = [1 / (rank ** 1.07) for rank in range(1, len(self.words) + 1)]
        self.cumulative = list(itertools.accumulate(weights))

    def text(self, low: int, high: int) -> str:
        return " ".join(self.random.choices(self.words, cum_weights=self.cumulative, k=self.random.randint(low, high)))

    def question(self) -> str:
        return f"{self.random.choice(STARTS)} {self.text(5, 12)}?"

    def paragraph(self, low: int, high: int, sources: int) -> str:
        words = self.text(low, high).split()
        for _ in range(self.random.randint(1, 3)):  # a few citations, as real answers have
            words.insert(self.random.randrange(len(words) + 1), f"[{self.random.randint(1, sources)}]")
        return " ".join(words).capitalize() + "."


# --- writers: where the rows go ---------------------------------------------------------------

class Writer:
    """Bulk INSERTs (SQLite, or any database). Every row of one call has the same keys, and
    names every column that has no server default (COPY leaves the others NULL)."""

    def __init__(self, session: Session):
        self.session = session

    def write(self, table: Table, rows: list[dict]) -> None:
        if rows:
            self.session.execute(insert(table), rows)

    def commit(self) -> None:
        self.session.commit()


class CopyWriter(Writer):
    """PostgreSQL through psycopg 3: COPY … FROM STDIN, in the session's own transaction."""

    def write(self, table: Table, rows: list[dict]) -> None:
        if not rows:
            return
        from psycopg import sql

        columns = list(rows[0])
        values = itemgetter(*columns)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        driver = self.session.connection().connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(values(row))
        if table.name in cache.CONTENT_TABLES:
            # What an INSERT through the session marks (answers/cache.py): the commit writes
            # a new content version, so no server shows answer pages rendered before it.
            self.session.info[cache.CHANGED] = True


def writer_for(session: Session) -> Writer:
    dialect = session.get_bind().dialect
    return CopyWriter(session) if (dialect.name, dialect.driver) == ("postgresql", "psycopg") else Writer(session)


def next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def zipf_weights(n: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights for `random.choices`: the item at rank r drawn in proportion to 1/r^exponent."""
    return list(itertools.accumulate(1 / rank ** exponent for rank in range(1, n + 1)))


def tables_of(*models) -> list[Table]:
    return [model.__table__ for model in models]


# --- questions --------------------------------------------------------------------------------

def _categories(session: Session) -> list[int]:
    ids = []
    for slug in CATEGORIES:
        category = session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            category = Category(slug=slug, name=slug.capitalize())
            session.add(category)
            session.flush()
        ids.append(category.id)
    return ids


def _question_batches(corpus: Corpus, categories: list[int], first: int, count: int, section_id: int,
                      source_id: int, link_id: int, now: dt.datetime) -> Iterator[dict[Table, list[dict]]]:
    """The rows of `count` questions from id `first` on, BATCH questions at a time, each
    batch complete in itself (its links point only to questions already made)."""
    rng = corpus.random
    today = dt.date(2026, 11, 1)
    for start in range(first, first + count, BATCH):
        questions, sections, sources, links = [], [], [], []
        for qid in range(start, min(start + BATCH, first + count)):
            text = corpus.question()
            answered = rng.random() < 0.9
            n_sources = rng.randint(3, 8) if answered else 0
            questions.append(dict(
                id=qid, slug=f"synth-{qid}", text=text[:300], text_key=text_key(text), status=ANSWERED if answered else UNANSWERED,
                category_id=rng.choice(categories) if answered else None,
                summary=corpus.paragraph(60, 120, n_sources) if answered else "",
                checked_on=today - dt.timedelta(days=rng.randint(0, 900)) if answered else None,
                created_at=now, updated_at=now,
            ))
            for position in range(1, rng.randint(3, 6) + 1 if answered else 1):
                sections.append(dict(id=section_id, question_id=qid, position=position,
                                     heading=corpus.text(3, 7).capitalize(), body=corpus.paragraph(80, 200, n_sources)))
                section_id += 1
            for number in range(1, n_sources + 1):
                sources.append(dict(id=source_id, question_id=qid, number=number, title=corpus.text(3, 8).capitalize(),
                                    url=f"https://example.org/{qid}/{number}", publisher=f"Publisher {rng.randint(1, 200)}"))
                source_id += 1
            # Links point back to questions already written, so every batch is complete.
            targets = {rng.randint(first, qid - 1) for _ in range(3)} if qid > first else set()
            for position, target in enumerate(sorted(targets), start=1):
                links.append(dict(id=link_id, from_id=qid, to_id=target, position=position))
                link_id += 1
        yield {Question.__table__: questions, Section.__table__: sections, Source.__table__: sources,
               RelatedLink.__table__: links}


def generate(session: Session, count: int, seed: int = 1, progress: Callable[[int], None] | None = None,
             writer: Writer | None = None) -> int:
    """Insert `count` questions (90% answered) with sections, sources and related links."""
    writer = writer or writer_for(session)
    corpus = Corpus(seed)
    categories = _categories(session)
    first = next_id(session, Question)
    section_id, source_id, link_id = (next_id(session, m) for m in (Section, Source, RelatedLink))
    for batch in _question_batches(corpus, categories, first, count, section_id, source_id, link_id, utcnow()):
        for table, rows in batch.items():  # in order: questions before the rows that point to them
            writer.write(table, rows)
        writer.commit()
        if progress:
            progress(len(batch[Question.__table__]))
    advance_sequences(session, tables_of(Question, Section, Source, RelatedLink))
    counts.recount(session)  # the rows went in beside the ORM, which keeps the counters
    session.commit()
    return count


# --- accounts ---------------------------------------------------------------------------------
