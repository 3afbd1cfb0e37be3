"""Members, their access tokens, custodial keys (sealed) and moves to an own wallet."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.platform.orm import Base, utcnow


class WalletKind(str, enum.Enum):
    custodial = "custodial"  # the backend holds the key, sealed in custodial_keys
    own = "own"  # the member's own wallet, proven with Sign-In with Ethereum


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    wallet_address: Mapped[str] = mapped_column(String(42), unique=True)
    wallet_kind: Mapped[WalletKind] = mapped_column(Enum(WalletKind, native_enum=False))
    # a steward of the community: approves and suspends organizations (granted by an operator, never through the API)
    is_steward: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    custodial_key: Mapped[CustodialKey | None] = relationship(back_populates="user", cascade="all, delete-orphan")


class CustodialKey(Base):
    __tablename__ = "custodial_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="custodial_key")


class AccessToken(Base):
    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiweNonce(Base):
    __tablename__ = "siwe_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ExportStatus(str, enum.Enum):
    pending = "pending"  # signed by the custodial key, waiting for the relayer
    submitted = "submitted"
    done = "done"  # everything is at the member's own address; the custodial key is destroyed
    failed = "failed"


class WalletExport(Base):
    """A custodial member's move to their own wallet, through the contracts' migration."""

    __tablename__ = "wallet_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    from_address: Mapped[str] = mapped_column(String(42))
    to_address: Mapped[str] = mapped_column(String(42))
    deadline: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # the holder's EIP-712 consent, not a secret
    status: Mapped[ExportStatus] = mapped_column(Enum(ExportStatus, native_enum=False), default=ExportStatus.pending)
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_txs.id"))
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
