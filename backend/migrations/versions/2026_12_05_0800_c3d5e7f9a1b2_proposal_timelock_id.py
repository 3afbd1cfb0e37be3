"""the timelock operation of a queued proposal, so that the guardian's cancellation reaches the proposal

Revision ID: c3d5e7f9a1b2
Revises: b2c4e6f8a0d1
Create Date: 2026-12-05 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3d5e7f9a1b2'
down_revision = 'b2c4e6f8a0d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Proposals queued before this revision keep NULL: the guardian's cancellation of one of them is not seen by the
    # indexer, and the relayer's execution attempt reverts (the operation is gone), which marks it failed.
    with op.batch_alter_table('proposals') as batch:
        batch.add_column(sa.Column('timelock_id', sa.String(length=66), nullable=True))
        batch.create_index(batch.f('ix_proposals_timelock_id'), ['timelock_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('proposals') as batch:
        batch.drop_index(batch.f('ix_proposals_timelock_id'))
        batch.drop_column('timelock_id')
