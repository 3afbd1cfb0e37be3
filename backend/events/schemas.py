"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.platform.schemas import BilingualTextCreate, Strict, aware_datetime

CATEGORIES = ("culture", "crafts", "food", "art", "sports", "volunteering", "hackathon", "festival", "workshop",
              "cleanup", "other")


Category = Literal["culture", "crafts", "food", "art", "sports", "volunteering", "hackathon", "festival",
                   "workshop", "cleanup", "other"]


class EventCreate(BilingualTextCreate):
    category: Category
    venue: str = Field(default="", max_length=200)
    starts_at: datetime
    ends_at: datetime
    claim_start: datetime
    claim_end: datetime
    capacity: int = Field(default=0, ge=0, le=1_000_000, description="0: no limit")
    points: int = Field(ge=0, le=1_000_000)
    secret_word: str | None = Field(default=None, min_length=4, max_length=100)

    @field_validator("starts_at", "ends_at", "claim_start", "claim_end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return aware_datetime(value)

    @model_validator(mode="after")
    def _order(self) -> "EventCreate":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.claim_end <= self.claim_start:
            raise ValueError("claim_end must be after claim_start")
        return self


class EventUpdate(Strict):
    """The texts of an event; a field left out or null stays as it is. Its points, claim window and capacity are
    fixed once it is on chain."""

    title_ja: str | None = Field(default=None, min_length=1, max_length=200)
    title_en: str | None = Field(default=None, min_length=1, max_length=200)
    description_ja: str | None = Field(default=None, max_length=5000)
    description_en: str | None = Field(default=None, max_length=5000)
    venue: str | None = Field(default=None, max_length=200)


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organization_id: int
    title_ja: str
    title_en: str
    description_ja: str
    description_en: str
    category: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    claim_start: datetime
    claim_end: datetime
    capacity: int
    points: int
    token_id: int | None = Field(description="ERC-1155 token id, once the event is on chain")
    has_secret_word: bool = False


class CodesCreate(Strict):
    count: int = Field(ge=1, le=1000)


# A QR sheet is drawn while the request waits (~10 ms of one core per code: segno tries 8 masks per code), so one
# request may ask for at most this many; more codes are more sheets, which the organization's hourly limit of sheets
# bounds (backend/platform/rate_limits.py). 100 codes are a few printed pages.
MAX_SHEET_CODES = 100


class CodeSheetCreate(Strict):
    count: int = Field(ge=1, le=MAX_SHEET_CODES, description=f"at most {MAX_SHEET_CODES} codes per sheet")


class CodesPublic(BaseModel):
    event_id: int
    claim_urls: list[str] = Field(description="shown once: each holds a single-use secret")


class KioskPublic(BaseModel):
    code: str
    claim_url: str
    valid_for_s: int
