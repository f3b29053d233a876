"""The PostgreSQL engine's tables: one weighted document per question, and the words
of the corpus for "Did you mean". PostgreSQL only: migration 0007 creates them there
and does nothing on SQLite; `db.create_all()` (the tests) creates them through the
listener at the end of this module.

`plumb_english` is English stemming with accents folded first (unaccent), so
"Cortés", "Cortes" and "cortes" are one word. It keeps every word, stop words
included, so that a quoted phrase ("same place") is matched word for word; stop words
are left out of a reader's plain words before they reach PostgreSQL
(webapp/search/query.py STOP_WORDS). pg_trgm finds words spelt alike."""
from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, MetaData, Table, Text, event, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

from webapp.extensions import db

CONFIG = "plumb_english"
metadata = MetaData()

documents = Table(
    "search_document", metadata,
    Column("question_id", Integer, primary_key=True, autoincrement=False),
    Column("slug", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("summary", Text, nullable=False),  # plain text, for snippets
    Column("category", Text, nullable=False),
    Column("category_name", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("checked_on", Date),
    Column("cites", ARRAY(Text), nullable=False),  # the sources' domains
    Column("words", ARRAY(Text), nullable=False),  # unstemmed words of question and headings
    Column("version", Text, nullable=False),
    # question A, summary and headings B, section bodies and sources C
    Column("tsv", TSVECTOR, nullable=False),
    # A rated claim's verdict (true … false), NULL when none. Last, where migration 0015
    # added it, so that tables made by create_all and by the migrations are the same.
    Column("verdict", Text),
    # RUM, not GIN: it keeps each word's positions and weights in the index, so the
    # best-ranked matches come out of the index in order (tsv <=> query) without
    # reading every match's tsvector from the table (docs/search.md, the figures).
    # A rebuild drops it and builds it again (engine.RANK_INDEX).
    Index("search_document_tsv", "tsv", postgresql_using="rum", postgresql_ops={"tsv": "rum_tsvector_ops"}),
    Index("search_document_category", "category"),
    # "Newest" order (checked_on DESC NULLS LAST, question_id) read from the index: for a
    # common word the planner walks it and tests each row, instead of sorting every match
    # (315 ms for a word in 10% of 1,000,000 answers, where an ascending index did not
    # match the order). Also serves `checked:` ranges.
    Index("search_document_newest", text("checked_on DESC NULLS LAST"), "question_id"),
    Index("search_document_cites", "cites", postgresql_using="gin"),
    # Partial: only the rated answers, a few of all, so the index stays small; it serves
    # `verdict:` on its own (without words), where no other index narrows the rows.
    Index("search_document_verdict", "verdict", postgresql_where=text("verdict IS NOT NULL")),
    # Narrow rows: the texts go to TOAST (see NARROW), so counting matches by category
    # and status reads a 20 MB table at 100,000 questions instead of 118 MB.
    postgresql_with={"toast_tuple_target": "128"},
)

words = Table(
    "search_word", metadata,
    Column("word", Text, primary_key=True),
    Index("search_word_trigrams", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"}),
)

# Database-wide objects the tables need; each statement may run again safely.
SETUP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS rum",
    f"""DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}') THEN
        CREATE TEXT SEARCH DICTIONARY {CONFIG}_stem (TEMPLATE = snowball, Language = english);
        CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english);
        ALTER TEXT SEARCH CONFIGURATION {CONFIG}
          ALTER MAPPING FOR asciiword, asciihword, hword_asciipart WITH {CONFIG}_stem;
        ALTER TEXT SEARCH CONFIGURATION {CONFIG}
          ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {CONFIG}_stem;
      END IF;
    END $$""",
]


# Stored out of line, uncompressed: only the ten rows of a results page read them, for
# their headlines (whole page p50 13.4 -> 8.2 ms for one word, 20.9 -> 15.1 ms for
# three, at 100,000; docs/performance.md).
NARROW = ("ALTER TABLE search_document ALTER COLUMN question SET STORAGE EXTERNAL, "
          "ALTER COLUMN summary SET STORAGE EXTERNAL, ALTER COLUMN words SET STORAGE EXTERNAL")


def create(connection) -> None:
    for statement in SETUP:
        connection.execute(text(statement))
    metadata.create_all(connection)
    connection.execute(text(NARROW))


def _after_create(_target, connection, **_kw) -> None:
    if connection.dialect.name == "postgresql":
        create(connection)


def _before_drop(_target, connection, **_kw) -> None:
    if connection.dialect.name == "postgresql":
        metadata.drop_all(connection)


event.listen(db.metadata, "after_create", _after_create)
event.listen(db.metadata, "before_drop", _before_drop)
