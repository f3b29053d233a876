"""claims and their verdicts on answers

Revision ID: 0013_claims
Revises: 0012_desk
Create Date: 2026-12-02 21:10:00

The content format's optional claim block (claim, verdict, claimant, claim_date):
the statement an answer checks, as people say it, and its rating.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_claims'
down_revision = '0012_desk'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('claimant', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('claim_date', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_question_verdict'), ['verdict'], unique=False)


def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_verdict'))
        batch_op.drop_column('claim_date')
        batch_op.drop_column('claimant')
        batch_op.drop_column('verdict')
        batch_op.drop_column('claim')
