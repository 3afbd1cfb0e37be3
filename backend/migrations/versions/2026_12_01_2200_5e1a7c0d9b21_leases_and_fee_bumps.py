"""service leases (one relayer and one indexer among several processes) and fee bumps of stuck transactions

Revision ID: 5e1a7c0d9b21
Revises: 5f1e2c7a9b30
Create Date: 2026-12-01 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import backend.platform.orm

revision = '5e1a7c0d9b21'
down_revision = '5f1e2c7a9b30'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_leases',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('expires_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('outbound_txs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaced_hashes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('fee_bumped_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_txs', schema=None) as batch_op:
        batch_op.drop_column('fee_bumped_at')
        batch_op.drop_column('replaced_hashes')
    op.drop_table('service_leases')
