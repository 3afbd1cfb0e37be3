"""Events and their single-use claim codes (stored as hashes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.organizations.models import Organization
from backend.platform.orm import Base, BilingualTexts, utcnow


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
