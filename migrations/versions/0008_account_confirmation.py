"""account confirmation: user_account.confirmed_at

Revision ID: 0008_account_confirmation
Revises: 0007_postgres_search
Create Date: 2026-12-10 09:00:00

A new account waits for its owner to follow the link mailed to its address. Accounts
that exist already were made before addresses were confirmed: they count as confirmed
(from when they were created), so nobody is locked out by the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_account_confirmation'
down_revision = '0007_postgres_search'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE user_account SET confirmed_at = created_at WHERE confirmed_at IS NULL")


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
