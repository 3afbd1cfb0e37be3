"""accounts people can trust (#18): verified e-mail addresses, the sponsor's accounts in the database, single-use links
mailed to an account (verification, password reset), log-ins listed by a public id, and the outbox of e-mails

Revision ID: d4e6f8a0b2c3
Revises: c3d5e7f9a1b2
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import backend.platform.orm

revision = 'd4e6f8a0b2c3'
down_revision = 'c3d5e7f9a1b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Accounts made before this revision have no verified address: their owners confirm it from the account page (a
    # new link), by a password reset, or an operator vouches for it (`kyoso accounts verify`). Until then a steward or
    # an organization founder among them has no power: a role is worth what the address behind it is worth.
    # The sponsor's accounts were KYOSO_SPONSOR_EMAILS, which is no longer read: `kyoso sponsor set EMAIL` for each.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('is_sponsor', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('email_verified_at', backend.platform.orm.UTCDateTime(timezone=True),
                                   nullable=True))

    # Log-ins made before it get a public id from their hash (the hash is no secret, and its first 24 characters still
    # name one row among any number): revocable like the new ones.
    with op.batch_alter_table('access_tokens') as batch:
        batch.add_column(sa.Column('public_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('kind', sa.Enum('session', 'api', name='tokenkind', native_enum=False, length=7),
                                   server_default='api', nullable=False))
        batch.add_column(sa.Column('user_agent', sa.String(length=200), nullable=True))
    op.execute("UPDATE access_tokens SET public_id = substr(token_hash, 1, 24)")
    with op.batch_alter_table('access_tokens') as batch:
        batch.alter_column('public_id', existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(batch.f('uq_access_tokens_public_id'), ['public_id'])

    op.create_table('account_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('verify_email', 'reset_password', name='linkpurpose', native_enum=False,
                                 length=14), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('expires_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_links_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_account_links')),
    )
    op.create_index(op.f('ix_account_links_user_id'), 'account_links', ['user_id'], unique=False)

    op.create_table('outbound_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', backend.platform.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_mails')),
    )
    op.create_index(op.f('ix_outbound_mails_next_attempt_at'), 'outbound_mails', ['next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_outbound_mails_next_attempt_at'), table_name='outbound_mails')
    op.drop_table('outbound_mails')
    op.drop_index(op.f('ix_account_links_user_id'), table_name='account_links')
    op.drop_table('account_links')
    with op.batch_alter_table('access_tokens') as batch:
        batch.drop_constraint(batch.f('uq_access_tokens_public_id'), type_='unique')
        batch.drop_column('user_agent')
        batch.drop_column('kind')
        batch.drop_column('public_id')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email_verified_at')
        batch.drop_column('is_sponsor')
