"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.events.schemas import Category
from backend.platform.schemas import BilingualTextCreate, Period, Strict


class RuleSpec(Strict):
    """Who qualifies, from the badges on chain: `any_events` (at least `min_badges` of the events `event_ids`, one by
    default), `all_events` (every one of them) or `category` (at least `min_badges` badges of events of `category`);
    in each case the qualifying badges must come from at least `min_organizations` organizations."""

    kind: Literal["any_events", "all_events", "category"]
    event_ids: list[int] = Field(default_factory=list, max_length=50)
    category: Category | None = None
    min_badges: int = Field(default=1, ge=1, le=100)
    min_organizations: int = Field(default=1, ge=1, le=50)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "RuleSpec":
        if self.kind == "category":
            if self.category is None or self.event_ids:
                raise ValueError("a category rule needs category and takes no event_ids")
        else:
            if not self.event_ids or self.category is not None:
                raise ValueError(f"an {self.kind} rule needs event_ids and takes no category")
            self.event_ids = sorted(set(self.event_ids))
            if any(not 1 <= i <= 2**63 - 1 for i in self.event_ids):
                raise ValueError("event_ids must be event ids")
            if self.kind == "all_events" and self.min_badges != 1:
                raise ValueError("an all_events rule takes no min_badges (it needs every event)")
            if self.min_badges > len(self.event_ids):
                raise ValueError("min_badges is more than the number of events")
        return self


class PerkCreate(BilingualTextCreate, Period):
    limit_per_member: int | None = Field(default=None, ge=1, le=10_000, description="none: no limit")
    limit_total: int | None = Field(default=None, ge=1, le=10_000_000, description="none: no limit")
    rule: RuleSpec


class PerkPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organization_id: int
    title_ja: str
    title_en: str
    description_ja: str
    description_en: str
    valid_from: datetime
    valid_until: datetime
    limit_per_member: int | None
    limit_total: int | None
    rule: RuleSpec


class ProgressPublic(BaseModel):
    eligible: bool
    badges: int = Field(description="qualifying badges held (on chain)")
    badges_needed: int
    organizations: int = Field(description="organizations those badges come from")
    organizations_needed: int


class PerkStatusPublic(BaseModel):
    perk: PerkPublic
    progress: ProgressPublic
    redeemed: int = Field(description="times the caller used it")
    remaining: int | None = Field(description="uses left for the caller (none: no limit)")


class PerkPassPublic(BaseModel):
    perk_id: int
    token: str = Field(description="signed; in the QR code, inside redeem_url")
    redeem_url: str = Field(description="what the QR code holds: the organizer console's redeem page")
    short_code: str = Field(description="for typing at the counter, e.g. K7F3-9QXM")
    expires_at: datetime
    valid_for_s: int


class RedemptionCreate(Strict):
    """Either the signed `token` from the QR code or the `short_code` shown under it."""

    token: str | None = Field(default=None, max_length=300)
    short_code: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one(self) -> "RedemptionCreate":
        if (self.token is None) == (self.short_code is None):
            raise ValueError("send either token or short_code")
        return self


class RedemptionPublic(BaseModel):
    id: int
    perk_id: int
    title_ja: str
    title_en: str
    redeemed: int = Field(description="times the member has now used it")
    remaining: int | None
    created_at: datetime
