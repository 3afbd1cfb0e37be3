"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from backend.perks.schemas import ProgressPublic, RuleSpec
from backend.platform.schemas import BilingualTextCreate, Period


class MissionCreate(BilingualTextCreate, Period):
    points: int = Field(default=0, ge=0, le=1_000_000, description="points of the mission badge")
    rule: RuleSpec


class MissionPublic(BaseModel):
    id: int
    organization_id: int
    event_id: int = Field(description="the mission badge's event")
    token_id: int | None
    title_ja: str
    title_en: str
    description_ja: str
    description_en: str
    points: int
    valid_from: datetime
    valid_until: datetime
    rule: RuleSpec


class MissionStatusPublic(BaseModel):
    mission: MissionPublic
    progress: ProgressPublic
    status: Literal["open", "completed", "owed", "badge_given"] = Field(
        description="completed: the badge is on its way; owed: done, and the badge waits until the sponsor raises "
                    "the organization's gas budget (it is not lost); badge_given: it is on chain")
