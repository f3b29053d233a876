"""readers ask their own questions

Revision ID: 0014_asking
Revises: 0013_claims
Create Date: 2026-12-02 23:00:00

reader_question: what a reader asked, held apart from `question` until an editor (or
a trusted account) opens it, then pointing at the question it became or joined.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_asking'
down_revision = '0013_claims'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reader_question',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_key', sa.String(length=64), nullable=False),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('text_key', sa.String(length=300), nullable=False),
        sa.Column('context', sa.Text(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('address_key', sa.String(length=64), nullable=True),
        sa.Column('requester', sa.String(length=80), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('flagged', sa.String(length=200), nullable=True),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("state in ('pending', 'open', 'declined', 'merged')", name='reader_question_state'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['category_id'], ['category.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('form_key'),
    )
    with op.batch_alter_table('reader_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_question_text_key'), ['text_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_reader_question_question_id'), ['question_id'], unique=False)
        batch_op.create_index('ix_reader_question_state_created', ['state', 'created_at'], unique=False)
        batch_op.create_index('ix_reader_question_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_reader_question_address_created', ['address_key', 'created_at'], unique=False)


def downgrade():
    op.drop_table('reader_question')
