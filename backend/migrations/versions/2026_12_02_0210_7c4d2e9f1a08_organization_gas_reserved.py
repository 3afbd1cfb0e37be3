"""gas reserved by an organization's queued claims (backend/organizations/gas_budget.py)

Revision ID: 7c4d2e9f1a08
Revises: 5e1a7c0d9b21
Create Date: 2026-12-02 02:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '7c4d2e9f1a08'
down_revision = '5e1a7c0d9b21'
branch_labels = None
depends_on = None

GAS_PER_CLAIM_ESTIMATE = 60_000  # backend/organizations/gas_budget.py at the time of this migration


def upgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gas_reserved', sa.BigInteger(), nullable=False, server_default='0'))
    # claims already queued keep their place in the budget
    op.execute(sa.text(
        "UPDATE organizations SET gas_reserved = :gas * (SELECT count(*) FROM claims JOIN events"
        " ON events.id = claims.event_id WHERE events.organization_id = organizations.id"
        " AND claims.status IN ('accepted', 'submitted'))").bindparams(gas=GAS_PER_CLAIM_ESTIMATE))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('gas_reserved')
