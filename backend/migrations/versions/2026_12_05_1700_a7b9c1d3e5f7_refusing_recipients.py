"""refusing recipients: addresses whose ERC-1155 hook turned a badge down, with the code they had then

Revision ID: a7b9c1d3e5f7
Revises: f6a8b0c2d4e5
Create Date: 2026-12-05 17:00:00
"""

import sqlalchemy as sa
from alembic import op

import backend.platform.orm

revision = 'a7b9c1d3e5f7'
down_revision = 'f6a8b0c2d4e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'refusing_recipients',
        sa.Column('address', sa.String(length=42), nullable=False),
        sa.Column('code_hash', sa.String(length=66), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('address', name=op.f('pk_refusing_recipients')),
    )


def downgrade() -> None:
    op.drop_table('refusing_recipients')
