"""Proposals, votes and delegations on their way through the relayer."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.platform.orm import Base, utcnow


class RelayStatus(str, enum.Enum):
    """A member's signed governance action (proposal, vote, delegation) on its way through the relayer."""

    accepted = "accepted"  # validated and stored; the relayer will send it
    submitted = "submitted"  # in a signed transaction sent to the chain
    confirmed = "confirmed"  # in a block (or already on chain, sent by someone else)
    failed = "failed"  # gave up, with a reason
    awaiting_wallet = "awaiting_wallet"  # an own-wallet member sends the prepared transaction from their wallet


class ProposalKind(str, enum.Enum):
    text = "text"  # a decision without an on-chain action
    grant = "grant"  # ETH or an ERC-20 from the treasury (the timelock) to an address
    parameter = "parameter"  # a governance setting owned by the timelock
    external = "external"  # proposed on chain without the API; only the on-chain description is known


class Proposal(Base):
    """A proposal: its full bilingual text (off chain; its SHA-256 is in the on-chain description), its actions, and
    what the indexer saw of it on chain."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[str] = mapped_column(String(80), unique=True)  # the governor's uint256 id, in decimal
    proposer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    proposer_address: Mapped[str] = mapped_column(String(42))
    kind: Mapped[ProposalKind] = mapped_column(Enum(ProposalKind, native_enum=False))
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_ja: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)  # exactly as proposed on chain
    actions: Mapped[dict] = mapped_column(JSON)  # {"targets": [...], "values": ["wei", ...], "calldatas": ["0x.."]}
    grant_token: Mapped[str | None] = mapped_column(String(42))  # None: ETH
    grant_recipient: Mapped[str | None] = mapped_column(String(42))
    grant_amount: Mapped[str | None] = mapped_column(String(80))  # base units, decimal
    parameter_name: Mapped[str | None] = mapped_column(String(40))
    parameter_value: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[RelayStatus] = mapped_column(Enum(RelayStatus, native_enum=False), default=RelayStatus.accepted)
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_txs.id"))
    failure: Mapped[str | None] = mapped_column(Text)
    # from the chain (indexer)
    snapshot: Mapped[int | None] = mapped_column(BigInteger)  # voting starts after this timestamp
    deadline: Mapped[int | None] = mapped_column(BigInteger)  # voting ends at this timestamp
    created_tx: Mapped[str | None] = mapped_column(String(66))
    votes_for: Mapped[int] = mapped_column(BigInteger, default=0)  # counted weight (square roots in quadratic mode)
    votes_against: Mapped[int] = mapped_column(BigInteger, default=0)
    votes_abstain: Mapped[int] = mapped_column(BigInteger, default=0)
    points_for: Mapped[int] = mapped_column(BigInteger, default=0)  # points behind the votes (what the quorum counts)
    points_against: Mapped[int] = mapped_column(BigInteger, default=0)
    points_abstain: Mapped[int] = mapped_column(BigInteger, default=0)
    quorum: Mapped[int | None] = mapped_column(BigInteger)  # fixed once the snapshot has passed
    eta: Mapped[int | None] = mapped_column(BigInteger)  # executable from this timestamp, once queued
    queued_tx: Mapped[str | None] = mapped_column(String(66))
    # the id of its operation on the timelock, once queued: the guardian cancels that (backend/governance/record.py)
    timelock_id: Mapped[str | None] = mapped_column(String(66), index=True)
    executed_tx: Mapped[str | None] = mapped_column(String(66))
    executed_at: Mapped[datetime | None]
    canceled: Mapped[bool] = mapped_column(default=False)
    # Set once the proposal can change no more (defeated, canceled or executed), so the relayer stops looking at it.
    closed_state: Mapped[str | None] = mapped_column(String(20))
    # Somebody asked through the API to queue or execute it (the relayer does it by itself when auto-execute is on).
    advance_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    votes: Mapped[list[Vote]] = relationship(back_populates="proposal")


class Vote(Base):
    """One voter's vote on one proposal: a signed ballot relayed by the backend, or a vote the indexer saw."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("proposal_id", "voter", name="uq_vote_proposal_voter"),
        Index("ix_votes_status_proposal", "status", "proposal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(42), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    support: Mapped[int] = mapped_column(Integer)  # 0 against, 1 for, 2 abstain
    reason: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # the voter's EIP-712 ballot; None if cast directly
    status: Mapped[RelayStatus] = mapped_column(Enum(RelayStatus, native_enum=False), default=RelayStatus.accepted)
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_txs.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int | None] = mapped_column(BigInteger)  # as counted (from the VoteCast event)
    points: Mapped[int | None] = mapped_column(BigInteger)  # voting power at the snapshot
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship(back_populates="votes")


class Delegation(Base):
    """A signed delegation (or undelegation: the delegator itself) relayed to the points ledger."""

    __tablename__ = "delegations"
    __table_args__ = (UniqueConstraint("delegator", "nonce", name="uq_delegation_delegator_nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    delegator: Mapped[str] = mapped_column(String(42), index=True)
    delegatee: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    expiry: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[RelayStatus] = mapped_column(Enum(RelayStatus, native_enum=False), default=RelayStatus.accepted)
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_txs.id"))
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GovernanceBudget(Base):
    """The community's governance gas budget, which the sponsor sets: one row, id 1 (backend/governance/budget.py).
    The relayer adds to `gas_used` the gas of every transaction it sends for governance rather than for an
    organization (members' proposals and their keys' top-ups, votes, delegations, queue, execute, moves to an own
    wallet)."""

    __tablename__ = "governance_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    gas_budget: Mapped[int] = mapped_column(BigInteger)
    gas_used: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
