"""The PostgreSQL search engine's tables (PostgreSQL only; nothing on SQLite)

Revision ID: 0007_postgres_search
Revises: 0006_accounts_support
Create Date: 2026-12-02 06:30:00

One weighted tsvector document per question, kept in the same transaction as the
change by the application (webapp/search/postgres/engine.py), and the corpus's words
for "Did you mean". Needs the unaccent and pg_trgm extensions (PostgreSQL's contrib
modules; trusted: a database owner may create them) and rum (Debian:
postgresql-15-rum; creating it needs a superuser, once per database). After
upgrading, `flask search rebuild` fills the documents.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0007_postgres_search'
down_revision = '0006_accounts_support'
branch_labels = None
depends_on = None

CONFIG = "plumb_english"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgres():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS rum")
    op.execute(f"""DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}') THEN
        CREATE TEXT SEARCH DICTIONARY {CONFIG}_stem (TEMPLATE = snowball, Language = english);
        CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english);
        ALTER TEXT SEARCH CONFIGURATION {CONFIG}
          ALTER MAPPING FOR asciiword, asciihword, hword_asciipart WITH {CONFIG}_stem;
        ALTER TEXT SEARCH CONFIGURATION {CONFIG}
          ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {CONFIG}_stem;
      END IF;
    END $$""")
    op.create_table(
        'search_document',
        sa.Column('question_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('slug', sa.Text(), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('category', sa.Text(), nullable=False),
        sa.Column('category_name', sa.Text(), nullable=False),
        sa.Column('status', sa.Text(), nullable=False),
        sa.Column('checked_on', sa.Date(), nullable=True),
        sa.Column('cites', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('words', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('version', sa.Text(), nullable=False),
        sa.Column('tsv', postgresql.TSVECTOR(), nullable=False),
        sa.PrimaryKeyConstraint('question_id'),
        postgresql_with={'toast_tuple_target': '128'},
    )
    # Narrow rows: the texts live in TOAST, read only for a page's ten headlines.
    op.execute("ALTER TABLE search_document ALTER COLUMN question SET STORAGE EXTERNAL, "
               "ALTER COLUMN summary SET STORAGE EXTERNAL, ALTER COLUMN words SET STORAGE EXTERNAL")
    op.create_index('search_document_tsv', 'search_document', ['tsv'], postgresql_using='rum',
                    postgresql_ops={'tsv': 'rum_tsvector_ops'})
    op.create_index('search_document_category', 'search_document', ['category'])
    op.create_index('search_document_checked_on', 'search_document', ['checked_on'])
    op.create_index('search_document_cites', 'search_document', ['cites'], postgresql_using='gin')
    op.create_table('search_word', sa.Column('word', sa.Text(), nullable=False), sa.PrimaryKeyConstraint('word'))
    op.create_index('search_word_trigrams', 'search_word', ['word'], postgresql_using='gin',
                    postgresql_ops={'word': 'gin_trgm_ops'})


def downgrade():
    if not _postgres():
        return
    op.drop_table('search_word')
    op.drop_table('search_document')
    # The text search configuration and the extensions stay: other databases' objects
    # may use them, and they hold no data.
