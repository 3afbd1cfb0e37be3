"""Claims of badges, and what the chain says members hold (written by the indexer)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.events.models import Event
from backend.platform.models import OutboundTx
from backend.platform.orm import Base, utcnow


class ClaimStatus(str, enum.Enum):
    accepted = "accepted"  # stored; the badge will be issued
    submitted = "submitted"  # in a signed transaction sent to the chain
    confirmed = "confirmed"  # in a block, with its transaction hash and block number
    failed = "failed"  # gave up, with a reason
    # A mission's badge the member earned while the organization's gas budget had no room: kept, and made `accepted`
    # once the budget has room again (backend/missions/awards.py pay_owed). Claims by code are refused instead.
    owed = "owed"


class ClaimMethod(str, enum.Enum):
    code = "code"  # single-use code from a printed sheet
    kiosk = "kiosk"  # rotating code on a screen at the venue
    word = "word"  # secret word announced during the event
    mission = "mission"  # given by the backend when the member's badges completed a mission (backend/perks)


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id", name="uq_claim_user_event"),
        Index("ix_claims_status_event", "status", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(42))
    method: Mapped[ClaimMethod] = mapped_column(Enum(ClaimMethod, native_enum=False))
    status: Mapped[ClaimStatus] = mapped_column(Enum(ClaimStatus, native_enum=False), default=ClaimStatus.accepted)
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_txs.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    tx: Mapped[OutboundTx | None] = relationship()


class RefusingRecipient(Base):
    """An address whose ERC-1155 receiver hook turned a badge down (it reverted, burned the gas it was given or
    answered wrongly) while the same badge to the same address without its code would have been issued: the
    address's code is to blame, not the event. Members choose their own addresses (a contract wallet, an account with
    EIP-7702 delegated code), so the relayer keeps the code it saw, and claims and moves to the address are refused
    while the address still has that code (backend/claims/refusals.py)."""

    __tablename__ = "refusing_recipients"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(66))  # keccak of eth_getCode when the hook refused
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeHolding(Base):
    """What the chain says (from the indexer): holder has the badge of token id."""

    __tablename__ = "badge_holdings"
    __table_args__ = (UniqueConstraint("holder", "token_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(42), index=True)
    token_id: Mapped[int] = mapped_column(BigInteger, index=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class PointsBalance(Base):
    __tablename__ = "points_balances"

    holder: Mapped[str] = mapped_column(String(42), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    votes: Mapped[int] = mapped_column(BigInteger, default=0)
