"""every sponsored transaction charged to a budget: the fee paid per transaction, the community's governance budget

Revision ID: b2c4e6f8a0d1
Revises: a17e0c5d2b91
Create Date: 2026-12-04 19:30:00
"""

import sqlalchemy as sa
from alembic import op

import backend.platform.orm

revision = 'b2c4e6f8a0d1'
down_revision = 'a17e0c5d2b91'
branch_labels = None
depends_on = None

# backend/governance/budget.py and backend/organizations/gas_budget.py at the time of this migration
DEFAULT_GOVERNANCE_GAS_BUDGET = 2_000_000_000
EVENT_GAS_ESTIMATE = 150_000
# the relayer's own transactions whose subject is an organization (backend/relayer/service.py CHARGED_TO_SUBJECT)
CHARGED_TO_SUBJECT = "('register_organization', 'grant_issuer', 'revoke_issuer', 'fund')"


def upgrade() -> None:
    with op.batch_alter_table('outbound_txs') as batch:
        batch.add_column(sa.Column('fee_paid', sa.String(length=80), nullable=True))
    # The registrations, issuer grants and key top-ups already sent for an organization were paid by the sponsor but
    # charged to no budget: they are charged to the organization now, as from here on.
    op.execute(
        "UPDATE organizations SET gas_used = gas_used + COALESCE((SELECT SUM(outbound_txs.gas_used) FROM outbound_txs"
        " WHERE outbound_txs.organization_id IS NULL AND outbound_txs.subject_id = organizations.id"
        f" AND outbound_txs.purpose IN {CHARGED_TO_SUBJECT}), 0)")
    op.execute(
        "UPDATE outbound_txs SET organization_id = subject_id WHERE organization_id IS NULL"
        f" AND purpose IN {CHARGED_TO_SUBJECT} AND subject_id IN (SELECT id FROM organizations)")
    # events (and missions' badge events) not yet on chain hold their estimate, as new ones do
    op.execute(sa.text(
        "UPDATE organizations SET gas_reserved = gas_reserved + :gas * (SELECT count(*) FROM events"
        " WHERE events.organization_id = organizations.id AND events.token_id IS NULL)")
        .bindparams(gas=EVENT_GAS_ESTIMATE))
    op.create_table('governance_budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gas_budget', sa.BigInteger(), nullable=False),
    sa.Column('gas_used', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_governance_budget'),
    )
    # what governance already cost: everything settled that no organization was charged for
    op.execute(sa.text(
        "INSERT INTO governance_budget (id, gas_budget, gas_used, updated_at) VALUES (1, :budget,"
        " COALESCE((SELECT SUM(gas_used) FROM outbound_txs WHERE organization_id IS NULL), 0), CURRENT_TIMESTAMP)")
        .bindparams(budget=DEFAULT_GOVERNANCE_GAS_BUDGET))


def downgrade() -> None:
    # The charges moved to organizations stay (they were spent for them); only the new columns and table go.
    op.drop_table('governance_budget')
    with op.batch_alter_table('outbound_txs') as batch:
        batch.drop_column('fee_paid')
