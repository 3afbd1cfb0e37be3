"""Request (`*Create`) and response (`*Public`) schemas. No response schema has a field for a key, password or code
hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from backend.models import ClaimMethod, ClaimStatus, Role, WalletKind

CATEGORIES = ("culture", "crafts", "food", "art", "sports", "volunteering", "hackathon", "festival", "workshop",
              "cleanup", "other")
Category = Literal["culture", "crafts", "food", "art", "sports", "volunteering", "hackathon", "festival",
                   "workshop", "cleanup", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignupCreate(Strict):
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)
    locale: Literal["ja", "en"] = "ja"


class LoginCreate(Strict):
    email: EmailStr
    password: str = Field(max_length=200)


class SiweLoginCreate(Strict):
    message: str = Field(max_length=4000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str | None
    display_name: str | None
    locale: str
    wallet_address: str
    wallet_kind: WalletKind
    created_at: datetime


class PasswordConfirm(Strict):
    password: str = Field(max_length=200)


class WalletExportCreate(Strict):
    password: str = Field(max_length=200)
    message: str = Field(max_length=4000, description="SIWE message signed by the new wallet")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class OrganizationCreate(Strict):
    name_ja: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)


class OrganizationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name_ja: str
    name_en: str
    chain_id: int | None = Field(description="on-chain organization id, once registered")
    issuer_address: str
    registered: bool
    gas_budget: int
    gas_used: int


class GasBudgetUpdate(Strict):
    gas_budget: int = Field(ge=0, le=10**12)


class InvitationCreate(Strict):
    role: Role = Role.organizer


class InvitationPublic(BaseModel):
    token: str = Field(description="shown once: send it to the person invited")
    url: str
    role: Role
    expires_at: datetime


class EventCreate(Strict):
    title_ja: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    description_ja: str = Field(default="", max_length=5000)
    description_en: str = Field(default="", max_length=5000)
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
        if value.tzinfo is None:
            raise ValueError("must include a time zone, e.g. 2026-11-03T10:00:00+09:00")
        if not 2000 <= value.year <= 2200:  # on chain as uint48 seconds; anything else is a typo
            raise ValueError("must be between the years 2000 and 2200")
        return value

    @model_validator(mode="after")
    def _order(self) -> "EventCreate":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.claim_end <= self.claim_start:
            raise ValueError("claim_end must be after claim_start")
        return self


class EventUpdate(Strict):
    """The texts of an event. Its points, claim window and capacity are fixed once it is on chain."""

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


class CodesPublic(BaseModel):
    event_id: int
    claim_urls: list[str] = Field(description="shown once: each holds a single-use secret")


class KioskPublic(BaseModel):
    code: str
    claim_url: str
    valid_for_s: int


class ClaimCreate(Strict):
    method: ClaimMethod
    secret: str = Field(min_length=1, max_length=200, description="the code, the kiosk code or the secret word")


class ClaimPublic(BaseModel):
    id: int
    event_id: int
    status: ClaimStatus
    recipient: str
    method: ClaimMethod
    tx_hash: str | None
    block_number: int | None
    explorer_url: str | None
    failure: str | None
    created_at: datetime
    confirmed_at: datetime | None


class BadgePublic(BaseModel):
    token_id: int
    event_id: int | None
    title_ja: str | None
    title_en: str | None
    image_url: str
    tx_hash: str
    block_number: int


class WalletPublic(BaseModel):
    address: str
    kind: WalletKind
    points: int
    voting_power: int
    badges: list[BadgePublic]
