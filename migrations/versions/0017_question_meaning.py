"""a vector for every question (search by meaning)

Revision ID: 0017_question_meaning
Revises: 0016_following
Create Date: 2026-12-03 05:00:00

question_meaning holds each question's WordLlama vector (float16), written where its
search document is written. This migration only makes the table: `flask search sync`
(which `make demo` runs) or `flask search rebuild` computes the vectors, about 0.3 ms
a question; until then search finds by words alone.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_question_meaning'
down_revision = '0016_following'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'question_meaning',
        sa.Column('question_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=True),
        sa.Column('model', sa.String(length=60), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('question_id'),
    )
    op.create_index('ix_question_meaning_changed_at', 'question_meaning', ['changed_at'])


def downgrade():
    op.drop_index('ix_question_meaning_changed_at', table_name='question_meaning')
    op.drop_table('question_meaning')
