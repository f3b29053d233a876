"""each category's answered questions counted, and an index for its pages

Revision ID: 0019_category_counts
Revises: 0018_question_rank
Create Date: 2026-12-03 08:20:00

category.answered_count is kept by webapp/answers/counts.py in the same flush as the
questions that move it; filled here from the questions. The index gives a category's
page its answers in the page's order (newest checked first, then newest added),
read backwards, without sorting all of them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_category_counts'
down_revision = '0018_question_rank'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('category') as batch_op:
        batch_op.add_column(sa.Column('answered_count', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE category SET answered_count = (SELECT count(*) FROM question "
               "WHERE question.category_id = category.id AND question.status = 'answered')")
    op.create_index('ix_question_category_listing', 'question',
                    ['category_id', 'status', 'checked_on', 'id'])


def downgrade():
    op.drop_index('ix_question_category_listing', table_name='question')
    with op.batch_alter_table('category') as batch_op:
        batch_op.drop_column('answered_count')
