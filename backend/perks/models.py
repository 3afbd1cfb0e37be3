"""Perks, the short-lived passes members show at a counter, and redemptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.organizations.models import Organization
from backend.platform.orm import Base, BilingualTexts, utcnow


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
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge deletes by it (backend/relayer/housekeeping)
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
