"""Database models (SQLAlchemy 2). Times are UTC; secrets are stored only as hashes or sealed with the key vault."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use UTC-aware datetimes")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class WalletKind(str, enum.Enum):
    custodial = "custodial"  # the backend holds the key, sealed in custodial_keys
    own = "own"  # the member's own wallet, proven with Sign-In with Ethereum


class Role(str, enum.Enum):
    owner = "owner"
    organizer = "organizer"


class ClaimStatus(str, enum.Enum):
    accepted = "accepted"  # stored; the badge will be issued
    submitted = "submitted"  # in a signed transaction sent to the chain
    confirmed = "confirmed"  # in a block, with its transaction hash and block number
    failed = "failed"  # gave up, with a reason


class ClaimMethod(str, enum.Enum):
    code = "code"  # single-use code from a printed sheet
    kiosk = "kiosk"  # rotating code on a screen at the venue
    word = "word"  # secret word announced during the event
    mission = "mission"  # given by the backend when the member's badges completed a mission (backend/perks)


class TxStatus(str, enum.Enum):
    signed = "signed"  # nonce reserved, raw transaction stored, not yet known to be sent
    broadcast = "broadcast"  # sent to the node at least once
    mined = "mined"  # receipt with status 1
    reverted = "reverted"  # receipt with status 0
    superseded = "superseded"  # its nonce was used by another transaction


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    wallet_address: Mapped[str] = mapped_column(String(42), unique=True)
    wallet_kind: Mapped[WalletKind] = mapped_column(Enum(WalletKind, native_enum=False))
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
    # the estimate for its accepted and submitted claims (backend/core/gas_budget.py)
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


class BilingualTexts:
    """Title and description in Japanese and English (events and perks)."""

    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_ja: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")


class Event(BilingualTexts, Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    venue: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    claim_start: Mapped[datetime]
    claim_end: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    points: Mapped[int] = mapped_column(Integer)
    token_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)  # ERC-1155 id, once created on chain
    kiosk_seed: Mapped[bytes] = mapped_column(LargeBinary)  # sealed-free random seed for rotating codes
    word_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()


class ClaimCode(Base):
    __tablename__ = "claim_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundTx(Base):
    """A transaction of one relayer key: nonce reserved and raw transaction stored before it is broadcast."""

    __tablename__ = "outbound_txs"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(40))  # register_organization, create_event, issue, migrate, ...
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    subject_id: Mapped[int | None]  # the organization or event the transaction is about
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[TxStatus] = mapped_column(Enum(TxStatus, native_enum=False), index=True)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    broadcasts: Mapped[int] = mapped_column(Integer, default=0)
    # Hashes of earlier versions of this transaction (same nonce, lower fees) that a fee bump replaced: any of them
    # may still be the one that is mined.
    replaced_hashes: Mapped[list] = mapped_column(JSON, default=list)
    fee_bumped_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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


class GuessThrottle(Base):
    """Wrong-code counters per account and per IP address, with a cooldown once the limit is reached."""

    __tablename__ = "guess_throttles"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class IndexerCursor(Base):
    __tablename__ = "indexer_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)
    # Timestamp of the last indexed block: the chain's "now" for everything derived from indexed data (proposal
    # states), so a page never shows a state the indexed tallies do not yet support.
    block_timestamp: Mapped[int | None] = mapped_column(BigInteger)


class ServiceLease(Base):
    """Which process runs a background service (relayer, indexer) while several share the database
    (backend/core/lease.py)."""

    __tablename__ = "service_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]


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


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class Perk(BilingualTexts, Base):
    """What an organization offers holders of certain badges (10% off, free entry), redeemed at its counter. `rule`
    is an eligibility rule (schemas.RuleSpec), evaluated against badge_holdings only."""

    __tablename__ = "perks"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    limit_per_member: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    limit_total: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()


class PerkPass(Base):
    """A member's 60-second pass for one perk (the signed QR code and its short code). Single use: `used_at`."""

    __tablename__ = "perk_passes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, in the signed token
    perk_id: Mapped[int] = mapped_column(ForeignKey("perks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # of the short code typed at the counter
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PerkRedemption(Base):
    """One use of a perk. The sequence numbers make the limits hold under concurrency: the n-th use of a member (or of
    the perk) can be inserted once only, so two counters redeeming at the same moment cannot both take the last one."""

    __tablename__ = "perk_redemptions"
    __table_args__ = (
        UniqueConstraint("perk_id", "user_id", "member_seq", name="uq_redemption_member_seq"),
        UniqueConstraint("perk_id", "total_seq", name="uq_redemption_total_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    perk_id: Mapped[int] = mapped_column(ForeignKey("perks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    pass_id: Mapped[str] = mapped_column(ForeignKey("perk_passes.id", ondelete="CASCADE"), unique=True)
    member_seq: Mapped[int | None] = mapped_column(Integer)  # set when the perk has a per-member limit
    total_seq: Mapped[int | None] = mapped_column(Integer)  # set when the perk has a total limit
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mission(Base):
    """A goal across organizations ("five crafts events of at least three organizations"). Its badge is the event
    `event_id`; completing it is a Claim of that event (method `mission`), so it is given exactly once."""

    __tablename__ = "missions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    rule: Mapped[dict] = mapped_column(JSON)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    # Members who held the qualifying badges before the mission existed are looked at once, by the indexer.
    swept: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()
