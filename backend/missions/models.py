"""Missions: a badge the backend gives when a member's badges meet a rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.events.models import Event
from backend.platform.orm import Base, utcnow


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
