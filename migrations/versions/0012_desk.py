"""the editors' desk: revisions, reader reports, the day an answer was last corrected

Revision ID: 0012_desk
Revises: 0011_pledge_payments
Create Date: 2026-12-02 20:10:00

`revision` keeps every saved state of a question as its content file, with who, when, a
note and a kind (correction, update, re-check); `reader_report` keeps readers' reports
and what became of them; `question.corrected_on` is the day of the last correction.
Questions already here get revision 1 ("as it was before revisions were kept") the
first time they are saved or imported, not here: this migration writes no files' text.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_desk'
down_revision = '0011_pledge_payments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('corrected_on', sa.Date(), nullable=True))
    op.create_table('revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('editor_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind in ('correction', 'update', 're-check')", name='revision_kind'),
        sa.ForeignKeyConstraint(['editor_id'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('question_id', 'number'),
    )
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.create_index('ix_revision_kind_created', ['kind', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_editor_id'), ['editor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revision_question_id'), ['question_id'], unique=False)
    op.create_table('reader_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('what', sa.Text(), nullable=False),
        sa.Column('source_url', sa.String(length=2000), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('revision_id', sa.Integer(), nullable=True),
        sa.Column('editor_note', sa.String(length=500), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("state in ('new', 'accepted', 'declined', 'fixed')", name='report_state'),
        sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['revision_id'], ['revision.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('reader_report', schema=None) as batch_op:
        batch_op.create_index('ix_reader_report_state_created', ['state', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reader_report_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reader_report_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reader_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_report_user_id'))
        batch_op.drop_index(batch_op.f('ix_reader_report_question_id'))
        batch_op.drop_index('ix_reader_report_state_created')
    op.drop_table('reader_report')
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_question_id'))
        batch_op.drop_index(batch_op.f('ix_revision_editor_id'))
        batch_op.drop_index('ix_revision_kind_created')
    op.drop_table('revision')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('corrected_on')
