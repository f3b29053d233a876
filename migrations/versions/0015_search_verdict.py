"""the verdict in the PostgreSQL engine's search documents (PostgreSQL only; nothing on SQLite)

Revision ID: 0015_search_verdict
Revises: 0014_asking
Create Date: 2026-12-03 09:00:00

search_document gains the verdict of the claim an answer checks (migration 0013), for
the reader's `verdict:` operator and the verdict shown on each result. The documents
that exist are filled from `question` here, with their version chained as the engine
chains it (webapp/search/postgres/engine.py with_verdict: sha256 of the version, ':'
and the verdict), so no rebuild is needed and `flask search check` stays clean. A
partial index holds only the rated answers.

Downgrading drops the column; the rated answers' documents then keep a version the
older code does not compute, so `flask search check` reports them stale until
`flask search rebuild`. (The Whoosh engine needs nothing here: an index without the
field is of an older schema, and is rebuilt by itself.)
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_search_verdict'
down_revision = '0014_asking'
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgres():
        return
    op.add_column('search_document', sa.Column('verdict', sa.Text(), nullable=True))
    op.execute("""
        UPDATE search_document d
        SET verdict = q.verdict,
            version = encode(sha256(convert_to(d.version || ':' || q.verdict, 'UTF8')), 'hex')
        FROM question q
        WHERE q.id = d.question_id AND q.verdict IS NOT NULL""")
    op.create_index('search_document_verdict', 'search_document', ['verdict'],
                    postgresql_where=sa.text('verdict IS NOT NULL'))


def downgrade():
    if not _postgres():
        return
    op.drop_index('search_document_verdict', table_name='search_document')
    op.drop_column('search_document', 'verdict')
