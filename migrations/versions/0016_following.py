"""readers follow questions; changes for followers; daily digests

Revision ID: 0016_following
Revises: 0015_search_verdict
Create Date: 2026-12-02 23:40:00

question_follow (who follows what, and when they last read it), question_change (what
changed in a followed question, recorded with the revision), follow_settings (an
account's private feed token and email choice) and follow_digest (each daily message,
written before it is sent, so none goes twice).
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_following'
down_revision = '0015_search_verdict'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'question_follow',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'question_id'),
    )
    with op.batch_alter_table('question_follow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_follow_question_id'), ['question_id'], unique=False)
    op.create_table(
        'question_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('revision_number', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind in ('answered', 're-checked', 'corrected', 'updated')", name='question_change_kind'),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('question_change', schema=None) as batch_op:
        batch_op.create_index('ix_question_change_question_id_id', ['question_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_question_change_created_at'), ['created_at'], unique=False)
    op.create_table(
        'follow_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('feed_token', sa.String(length=64), nullable=False),
        sa.Column('email_digest', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
        sa.UniqueConstraint('feed_token'),
    )
    op.create_table(
        'follow_digest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('first_change_id', sa.Integer(), nullable=False),
        sa.Column('last_change_id', sa.Integer(), nullable=False),
        sa.Column('changes', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status in ('sending', 'sent', 'failed', 'unknown')", name='follow_digest_status'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'first_change_id'),
    )
    with op.batch_alter_table('follow_digest', schema=None) as batch_op:
        batch_op.create_index('ix_follow_digest_user_created', ['user_id', 'created_at'], unique=False)


def downgrade():
    op.drop_table('follow_digest')
    op.drop_table('follow_settings')
    op.drop_table('question_change')
    op.drop_table('question_follow')
