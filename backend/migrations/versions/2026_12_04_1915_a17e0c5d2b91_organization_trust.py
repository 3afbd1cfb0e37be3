"""organizations start pending until a steward approves them; issuing limits mirrored from the badge contract

Revision ID: a17e0c5d2b91
Revises: 9b3e51c0d7a4
Create Date: 2026-12-04 19:15:00
"""

import sqlalchemy as sa
from alembic import op

import backend.platform.orm

revision = 'a17e0c5d2b91'
down_revision = '9b3e51c0d7a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organizations') as batch:
        batch.add_column(sa.Column('status', sa.Enum('pending', 'approved', 'suspended', name='organizationstatus',
                                                     native_enum=False, length=16),
                                   server_default='pending', nullable=False))
        batch.add_column(sa.Column('status_reason', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('status_changed_at', backend.platform.orm.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('status_changed_by', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('suspended_on_chain', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('points_allowance', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('points_period', sa.BigInteger(), server_default='0', nullable=False))
        batch.add_column(sa.Column('points_used', sa.BigInteger(), server_default='0', nullable=False))
        batch.create_foreign_key('fk_organizations_status_changed_by_users', 'users', ['status_changed_by'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('ix_organizations_status', ['status'])
    # organizations the relayer already registered were trusted under the old rules: they stay able to issue
    op.execute("UPDATE organizations SET status = 'approved' WHERE chain_id IS NOT NULL")
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('is_steward', sa.Boolean(), server_default='0', nullable=False))
    op.create_table('issuing_limits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('max_event_points', sa.BigInteger(), nullable=False),
    sa.Column('default_allowance', sa.BigInteger(), nullable=False),
    sa.Column('allowance_period_s', sa.BigInteger(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_issuing_limits'),
    )


def downgrade() -> None:
    op.drop_table('issuing_limits')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('is_steward')
    with op.batch_alter_table('organizations') as batch:
        batch.drop_index('ix_organizations_status')
        batch.drop_constraint('fk_organizations_status_changed_by_users', type_='foreignkey')
        for column in ('points_used', 'points_period', 'points_allowance', 'suspended_on_chain', 'status_changed_by',
                       'status_changed_at', 'status_reason', 'status'):
            batch.drop_column(column)
