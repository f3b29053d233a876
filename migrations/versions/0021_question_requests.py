"""each question's answer requests counted, and an index of the most requested

Revision ID: 0021_question_requests
Revises: 0020_question_rank_place
Create Date: 2026-12-03 11:00:00

question.request_count is kept by webapp/graph/demand.py in the same flush as the
requests that move it; filled here from answer_request. /requests and the desk read
the most-requested unanswered questions from the partial index, in their order, where
they grouped every request on every view.
"""
from alembic import op
import sqlalchemy as sa


revision = '0021_question_requests'
down_revision = '0020_question_rank_place'
branch_labels = None
depends_on = None

REQUESTED = "status = 'unanswered' AND request_count > 0"


def upgrade():
    with op.batch_alter_table('question') as batch_op:
        batch_op.add_column(sa.Column('request_count', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE question SET request_count = (SELECT count(*) FROM answer_request "
               "WHERE answer_request.question_id = question.id) "
               "WHERE id IN (SELECT question_id FROM answer_request)")
    op.create_index('ix_question_most_requested', 'question', [sa.text('request_count DESC'), 'text'],
                    postgresql_where=sa.text(REQUESTED), sqlite_where=sa.text(REQUESTED))


def downgrade():
    op.drop_index('ix_question_most_requested', table_name='question')
    with op.batch_alter_table('question') as batch_op:
        batch_op.drop_column('request_count')
