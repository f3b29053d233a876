"""each question's place among its category's answers by rank

Revision ID: 0020_question_rank_place
Revises: 0019_category_counts
Create Date: 2026-12-03 09:00:00

/explore reads every category's hubs in one query through question_rank.place, where
one query per category took 12-34 ms each at 1,000,000 questions (330 ms for the page
with 20 categories). Empty until the next `flask graph rank` (or content import): the
page then shows the overall hubs and no category's.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_question_rank_place'
down_revision = '0019_category_counts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question_rank') as batch_op:
        batch_op.add_column(sa.Column('place', sa.Integer(), nullable=True))
    op.create_index('ix_question_rank_place', 'question_rank', ['place'],
                    postgresql_where=sa.text('place IS NOT NULL'), sqlite_where=sa.text('place IS NOT NULL'))


def downgrade():
    op.drop_index('ix_question_rank_place', table_name='question_rank')
    with op.batch_alter_table('question_rank') as batch_op:
        batch_op.drop_column('place')
