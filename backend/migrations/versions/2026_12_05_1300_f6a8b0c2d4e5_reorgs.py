"""reorgs: the hashes of indexed blocks and the indexer's undo journal, mined transactions' block hashes, the node's
finalized block

Revision ID: f6a8b0c2d4e5
Revises: e5f7a9b1c3d4
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f6a8b0c2d4e5'
down_revision = 'e5f7a9b1c3d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'indexed_blocks',
        sa.Column('number', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint('number', name=op.f('pk_indexed_blocks')),
    )
    op.create_table(
        'undo_journal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('block_number', sa.BigInteger(), nullable=False),
        sa.Column('table_name', sa.String(length=60), nullable=False),
        sa.Column('change', sa.String(length=8), nullable=False),
        sa.Column('key', sa.JSON(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_undo_journal')),
    )
    op.create_index(op.f('ix_undo_journal_block_number'), 'undo_journal', ['block_number'], unique=False)
    with op.batch_alter_table('indexer_cursors') as batch:
        batch.add_column(sa.Column('finalized_block', sa.BigInteger(), nullable=True))
    # Transactions mined before this revision keep NULL: they are past any reorg by now.
    with op.batch_alter_table('outbound_txs') as batch:
        batch.add_column(sa.Column('block_hash', sa.String(length=66), nullable=True))
        batch.create_index(batch.f('ix_outbound_txs_block_number'), ['block_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbound_txs') as batch:
        batch.drop_index(batch.f('ix_outbound_txs_block_number'))
        batch.drop_column('block_hash')
    with op.batch_alter_table('indexer_cursors') as batch:
        batch.drop_column('finalized_block')
    op.drop_index(op.f('ix_undo_journal_block_number'), table_name='undo_journal')
    op.drop_table('undo_journal')
    op.drop_table('indexed_blocks')
