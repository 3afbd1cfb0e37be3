"""indexes for what runs on a schedule: the purge of expired SIWE nonces and perk passes, and health's sum of the last
hour's fees

Revision ID: e5f7a9b1c3d4
Revises: d4e6f8a0b2c3
Create Date: 2026-12-05 09:40:00
"""

from alembic import op

revision = 'e5f7a9b1c3d4'
down_revision = 'd4e6f8a0b2c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('siwe_nonces') as batch:
        batch.create_index(batch.f('ix_siwe_nonces_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('perk_passes') as batch:
        batch.create_index(batch.f('ix_perk_passes_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('outbound_txs') as batch:
        batch.create_index(batch.f('ix_outbound_txs_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbound_txs') as batch:
        batch.drop_index(batch.f('ix_outbound_txs_updated_at'))
    with op.batch_alter_table('perk_passes') as batch:
        batch.drop_index(batch.f('ix_perk_passes_expires_at'))
    with op.batch_alter_table('siwe_nonces') as batch:
        batch.drop_index(batch.f('ix_siwe_nonces_expires_at'))
