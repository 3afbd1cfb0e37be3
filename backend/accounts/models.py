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
from backend.platform.security import new_secret


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
    # one of the sponsor's accounts (the city, which pays the gas): sets gas budgets, sees the spend report (granted
    # by an operator with `kyoso sponsor set`, never through the API)
    is_sponsor: Mapped[bool] = mapped_column(default=False, server_default="0")
    # when the owner of `email` proved it by a mailed link; roles that spend or issue need it (`verified`)
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    custodial_key: Mapped[CustodialKey | None] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def email_verified(self) -> bool:
        return self.email is not None and self.email_verified_at is not None

    @property
    def verified(self) -> bool:
        """Whether the account may hold a role that spends the sponsor's gas or issues (organizer, steward,
        sponsor): its e-mail address is proven, and it is not deleted. A role granted to an unverified account (an
        address written in before its owner confirmed it) has no power until then."""
        return self.email_verified and self.deleted_at is None


class CustodialKey(Base):
    __tablename__ = "custodial_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="custodial_key")


class TokenKind(str, enum.Enum):
    session = "session"  # the web app's cookie
    api = "api"  # a bearer token from POST /api/auth/login (or SIWE)


def _public_id() -> str:
    return new_secret(12)


class AccessToken(Base):
    """A log-in: a web session or an API token. Only its hash is stored; the member sees and ends each one by its
    `public_id` (on the account page, GET /api/me/sessions), which names it without letting anyone use it."""

    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=_public_id)
    kind: Mapped[TokenKind] = mapped_column(Enum(TokenKind, native_enum=False), default=TokenKind.api,
                                            server_default="api")
    user_agent: Mapped[str | None] = mapped_column(String(200))  # what logged in (a browser, a program), to tell apart
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkPurpose(str, enum.Enum):
    verify_email = "verify_email"
    reset_password = "reset_password"


class AccountLink(Base):
    """A single-use link mailed to an account's address: its token (256 bits) is only in the mail; its SHA-256 is
    stored. Used once (`used_at`), or never after `expires_at`."""

    __tablename__ = "account_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(Enum(LinkPurpose, native_enum=False))
    email: Mapped[str] = mapped_column(String(320))  # the address it was sent to: it proves that one only
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiweNonce(Base):
    __tablename__ = "siwe_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge deletes by it (backend/relayer/housekeeping)
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
