"""The platform's tables: signed transactions of the backend's keys, leases, throttles, the indexer's cursor."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.platform.orm import Base, Wei, utcnow


class TxStatus(str, enum.Enum):
    signed = "signed"  # nonce reserved, raw transaction stored, not yet known to be sent
    broadcast = "broadcast"  # sent to the node at least once
    mined = "mined"  # receipt with status 1
    reverted = "reverted"  # receipt with status 0
    superseded = "superseded"  # its nonce was used by another transaction


class OutboundTx(Base):
    """A transaction of one relayer key: nonce reserved and raw transaction stored before it is broadcast."""

    __tablename__ = "outbound_txs"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(40))  # register_organization, create_event, issue, migrate, ...
    # Whose gas budget pays for it: the organization it was sent for (its events and badges, and also its registration,
    # issuer grant and key top-ups, which the relayer's key sends); None: the community's governance budget (members'
    # proposals, votes, delegations, queue and execute, moves to an own wallet). The sponsor pays both.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    subject_id: Mapped[int | None]  # the organization or event the transaction is about
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[TxStatus] = mapped_column(Enum(TxStatus, native_enum=False), index=True)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    # What the sender paid for it in wei: the receipt's gasUsed x effectiveGasPrice (set when it is settled, mined or
    # reverted: a reverted transaction costs as much); None for a transaction settled before fees were recorded.
    fee_paid: Mapped[int | None] = mapped_column(Wei)
    block_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # the mined block's hash: a later block of that number with another hash means a reorg took the transaction out
    block_hash: Mapped[str | None] = mapped_column(String(66))
    broadcasts: Mapped[int] = mapped_column(Integer, default=0)
    # Hashes of earlier versions of this transaction (same nonce, lower fees) that a fee bump replaced: any of them
    # may still be the one that is mined.
    replaced_hashes: Mapped[list] = mapped_column(JSON, default=list)
    fee_bumped_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # indexed: health sums the fees settled in the last hour (backend/api/routes/health.py)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


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
    # The node's `finalized` block when the indexer last asked (None where the node has no such tag): a transaction
    # at or below it can no longer be reorganised away, which the API says as `finalized`.
    finalized_block: Mapped[int | None] = mapped_column(BigInteger)


class IndexedBlock(Base):
    """The hash of the last block of each range the indexer applied, kept for the reorg window: a block whose hash the
    node no longer gives means its branch was orphaned (backend/indexer/reorgs.py)."""

    __tablename__ = "indexed_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(66))


class UndoEntry(Base):
    """How to take back one change the indexer made to a derived row (backend/platform/undo_journal.py), filed under
    the first block of the range it applied: the rows' values before an update or a delete, or the key of a row it
    inserted. Kept for the reorg window."""

    __tablename__ = "undo_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    table_name: Mapped[str] = mapped_column(String(60))
    change: Mapped[str] = mapped_column(String(8))  # insert, update, delete: what the indexer did
    key: Mapped[dict] = mapped_column(JSON)  # the row's primary key
    before: Mapped[dict | None] = mapped_column(JSON)  # updated columns' old values, or the whole deleted row


class ServiceLease(Base):
    """Which process runs a background service (relayer, indexer) while several share the database
    (backend/platform/lease.py)."""

    __tablename__ = "service_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndexerSkippedLog(Base):
    """A log the indexer could not apply, kept with the reason: anyone can send a transaction whose log no code
    foresaw, and one such log must not stop the indexer for everyone (it moves on; health names the log)."""

    __tablename__ = "indexer_skipped_logs"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(42))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboundMail(Base):
    """An e-mail waiting for the mailer (backend/platform/mail.py), stored in the transaction of what it is about, so
    that no request waits for an SMTP server and a crash loses no message. The subject and the body may hold a
    single-use link: they are kept sealed (AES-256-GCM under the key-encryption key) and erased once sent or given
    up; what stays is who it went to, why and when."""

    __tablename__ = "outbound_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(String(40))  # verify_email, reset_password, ...: for operators, never shown
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once sent or given up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # when the mailer tries (again); None once sent or given up, so that the waiting ones are all the index holds
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # given up after MAX_ATTEMPTS
    last_error: Mapped[str | None] = mapped_column(Text)  # the SMTP server's answer, never the message
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
