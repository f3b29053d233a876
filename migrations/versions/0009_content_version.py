"""content version: the token that keys cached answer bodies

Revision ID: 0009_content_version
Revises: 0008_account_confirmation
Create Date: 2026-12-02 17:00:00

One row, written again with every change to what answer pages show
(webapp/answers/cache.py); it starts with a random token so that no cache entry made
from another database matches it.
"""
import datetime as dt
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0009_content_version'
down_revision = '0008_account_confirmation'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'content_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(16), 'changed_at': dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])


def downgrade():
    op.drop_table('content_version')
