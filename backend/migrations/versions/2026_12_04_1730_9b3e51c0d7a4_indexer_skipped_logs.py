"""indexer_skipped_logs: logs the indexer could not apply, with the reason

Revision ID: 9b3e51c0d7a4
Revises: 7c4d2e9f1a08
Create Date: 2026-12-04 17:30:00
"""

import sqlalchemy as sa
from alembic import op

import backend.platform.orm

revision = '9b3e51c0d7a4'
down_revision = '7c4d2e9f1a08'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indexer_skipped_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_indexer_skipped_logs'),
    sa.UniqueConstraint('tx_hash', 'log_index', name='uq_indexer_skipped_logs_tx_hash_log_index'),
    )
    op.create_index('ix_indexer_skipped_logs_created_at', 'indexer_skipped_logs', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_indexer_skipped_logs_created_at', table_name='indexer_skipped_logs')
    op.drop_table('indexer_skipped_logs')
