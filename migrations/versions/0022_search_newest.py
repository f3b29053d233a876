"""search documents: an index in "newest" order (PostgreSQL only)

Revision ID: 0022_search_newest
Revises: 0021_question_requests
Create Date: 2026-12-03 16:00:00

Replaces search_document_checked_on (ascending): searches sorted by newest order by
checked_on DESC NULLS LAST, question_id, which that index did not match, so a common
word's matches were all sorted (docs/performance.md, the third round at 1,000,000).
"""
from alembic import op
import sqlalchemy as sa


revision = '0022_search_newest'
down_revision = '0021_question_requests'
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgres():
        return
    op.create_index('search_document_newest', 'search_document',
                    [sa.text('checked_on DESC NULLS LAST'), 'question_id'])
    op.drop_index('search_document_checked_on', table_name='search_document')


def downgrade():
    if not _postgres():
        return
    op.create_index('search_document_checked_on', 'search_document', ['checked_on'])
    op.drop_index('search_document_newest', table_name='search_document')
