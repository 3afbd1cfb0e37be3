"""Organizations, their members' roles and invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.platform.orm import Base, utcnow


class Role(str, enum.Enum):
    owner = "owner"
    organizer = "organizer"


class OrganizationStatus(str, enum.Enum):
    """pending: may draft events, nothing of it goes on chain until a steward approves it; approved: registered on
    chain and its key may issue; suspended: by a steward (its issuer key loses the role on chain) or by the guardian
    or governance on chain (`suspendOrganization`); its queued claims fail with the reason."""

    pending = "pending"
    approved = "approved"
    suspended = "suspended"


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    chain_id: Mapped[int | None] = mapped_column(BigInteger)  # on-chain organization id, once registered
    issuer_address: Mapped[str] = mapped_column(String(42), unique=True)
    issuer_key: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    registered: Mapped[bool] = mapped_column(default=False)  # on chain, issuer role granted
    gas_budget: Mapped[int] = mapped_column(BigInteger, default=50_000_000)
    gas_used: Mapped[int] = mapped_column(BigInteger, default=0)
    # the estimate for its accepted and submitted claims (backend/organizations/gas_budget.py)
    gas_reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[OrganizationStatus] = mapped_column(
        Enum(OrganizationStatus, native_enum=False, length=16), default=OrganizationStatus.pending,
        server_default=OrganizationStatus.pending.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None]
    status_changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # suspended on chain by the guardian or governance: only governance lifts it (docs/governance.md)
    suspended_on_chain: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Its own points allowance per period, as governance set it on chain (None: the default of IssuingLimits), and the
    # points of its accepted claims counted against the allowance of period `points_period` (backend/organizations/
    # allowance.py): a claim beyond the allowance is refused before anything is sent.
    points_allowance: Mapped[int | None] = mapped_column(BigInteger)
    points_period: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    points_used: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization", cascade="all, delete-orphan")


class IssuingLimits(Base):
    """The badge contract's issuing limits as the indexer last saw them (`IssuingLimitsChanged`): one row, id 1. The
    contract enforces them; the API refuses what the contract would refuse, before anything is sent."""

    __tablename__ = "issuing_limits"

    id: Mapped[int] = mapped_column(primary_key=True)
    max_event_points: Mapped[int] = mapped_column(BigInteger)
    default_allowance: Mapped[int] = mapped_column(BigInteger)
    allowance_period_s: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False))

    organization: Mapped[Organization] = relationship(back_populates="memberships")


class Invitation(Base):
    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False))
    expires_at: Mapped[datetime]
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
