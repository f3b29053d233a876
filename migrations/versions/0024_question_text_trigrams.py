"""questions' texts by trigram, for the desk's related-question finder (PostgreSQL)

Revision ID: 0024_question_text_trigrams
Revises: 0023_related_link_ends
Create Date: 2026-12-04 00:10:00

The finder matches any part of a word (`text_key LIKE '%word%'`). No B-tree serves
that, so at 1,000,000 questions every search read the whole table (2.0 s). A GIN
trigram index finds the questions holding a word's three-letter pieces. Built
CONCURRENTLY, outside the migration's transaction: editors and imports go on writing
questions while it builds (a minute or so at 1,000,000). Nothing on SQLite, where the
finder reads the table as before.
"""
from alembic import op


revision = '0024_question_text_trigrams'
down_revision = '0023_related_link_ends'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        op.create_index('ix_question_text_trigrams', 'question', ['text_key'], postgresql_using='gin',
                        postgresql_ops={'text_key': 'gin_trgm_ops'}, postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index('ix_question_text_trigrams', table_name='question', if_exists=True)
