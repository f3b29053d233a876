"""each question's PageRank, stored (no serving process holds the whole graph)

Revision ID: 0018_question_rank
Revises: 0017_question_meaning
Create Date: 2026-12-03 05:30:00

question_rank holds what `flask graph rank` computes over the related links (after
every content import, and on a schedule); /explore reads its hubs through the index.
Empty until the first run: `flask graph rank` (or the next import) fills it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_question_rank'
down_revision = '0017_question_meaning'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'question_rank',
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('question_id'),
    )
    op.create_index('ix_question_rank_rank', 'question_rank', ['rank'])


def downgrade():
    op.drop_index('ix_question_rank_rank', table_name='question_rank')
    op.drop_table('question_rank')
