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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization", cascade="all, delete-orphan")


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
