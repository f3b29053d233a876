"""each payment of a pledge, and money received that stays counted

Revision ID: 0011_pledge_payments
Revises: 0010_payments
Create Date: 2026-12-02 20:00:00

`pledge_payment` keeps each payment Stripe took for a pledge (its first, each later
month) with what of it was refunded or disputed, so that a refunded month takes that
month out, a partial refund its part, a won dispute puts it back, and a month reconciled
by hand is not counted again when its webhook comes late.

The amount now counts money received and kept: a processor's pledge that ends (its
subscription cancelled) keeps what it paid in `campaign.amount_cents`; a recorded
pledge, which collected nothing, counts nothing once cancelled. Existing ended pledges
counted nothing under 0010, and still do (their `counted_cents` is set to 0); each active
processor pledge gets one payment row holding what it counts.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_pledge_payments'
down_revision = '0010_payments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pledge_payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pledge_id', sa.Integer(), nullable=False),
        sa.Column('invoice_ref', sa.String(length=120), nullable=True),
        sa.Column('payment_ref', sa.String(length=120), nullable=True),
        sa.Column('counted_cents', sa.BigInteger(), nullable=True),
        sa.Column('refunded_cents', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('dispute_status', sa.String(length=10), nullable=True),
        sa.Column('disputed_cents', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('taken_cents', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('refunded_cents >= 0 and disputed_cents >= 0 and taken_cents >= 0',
                           name='not_negative'),
        sa.CheckConstraint("dispute_status is null or dispute_status in ('open', 'won', 'lost')",
                           name='dispute_status'),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('invoice_ref'),
        sa.UniqueConstraint('payment_ref'),
    )
    with op.batch_alter_table('pledge_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_payment_pledge_id'), ['pledge_id'], unique=False)
    op.execute("update pledge set counted_cents = 0 where status <> 'active'")
    # What an active pledge counts becomes its one known payment (a monthly pledge's months
    # together: their invoices were not kept before this).
    op.execute("insert into pledge_payment (pledge_id, payment_ref, counted_cents, created_at) "
               "select id, payment_ref, counted_cents, created_at from pledge "
               "where status = 'active' and provider <> 'record'")


def downgrade():
    with op.batch_alter_table('pledge_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_payment_pledge_id'))
    op.drop_table('pledge_payment')
    # 0010 counts active pledges alone: money kept by ended pledges leaves the amount.
    op.execute("update pledge set counted_cents = 0 where status <> 'active'")
    op.execute("update campaign set amount_cents = (select coalesce(sum(counted_cents), 0) from pledge "
               "where pledge.campaign_id = campaign.id and pledge.status = 'active')")
