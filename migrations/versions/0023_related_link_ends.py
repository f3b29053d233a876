"""related links: both ends in each index, so a walk over the links reads indexes alone

Revision ID: 0023_related_link_ends
Revises: 0022_search_newest
Create Date: 2026-12-03 17:40:00

"How are these connected?" reads the links from and to a frontier of questions at
each step. ix_related_link_to_id held only to_id, so every link found was read again
from the table; (to_id, from_id) answers from the index, as the unique (from_id, to_id)
already did for the other end, which also makes ix_related_link_from_id redundant
(docs/performance.md, the fourth round at 1,000,000).
"""
from alembic import op


revision = '0023_related_link_ends'
down_revision = '0022_search_newest'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_related_link_to_from', 'related_link', ['to_id', 'from_id'])
    op.drop_index('ix_related_link_to_id', table_name='related_link')
    op.drop_index('ix_related_link_from_id', table_name='related_link')


def downgrade():
    op.create_index('ix_related_link_from_id', 'related_link', ['from_id'])
    op.create_index('ix_related_link_to_id', 'related_link', ['to_id'])
    op.drop_index('ix_related_link_to_from', table_name='related_link')
