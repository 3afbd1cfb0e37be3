"""What every domain's request schemas share: strict bodies, UTC-aware datetimes, checksummed addresses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from web3 import Web3


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def aware_datetime(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2026-11-03T10:00:00+09:00")
    if not 2000 <= value.year <= 2200:  # on chain as uint48 seconds; anything else is a typo
        raise ValueError("must be between the years 2000 and 2200")
    return value


class BilingualTextCreate(Strict):
    """The title and description every event, perk and mission has in Japanese and English."""

    title_ja: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    description_ja: str = Field(default="", max_length=5000)
    description_en: str = Field(default="", max_length=5000)


def checksum_address(value: str | None) -> str | None:

    if value is None:
        return None
    if not Web3.is_address(value):
        raise ValueError("must be an Ethereum address (0x followed by 40 hexadecimal digits)")
    return Web3.to_checksum_address(value)


class Period(Strict):
    valid_from: datetime
    valid_until: datetime

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return aware_datetime(value)

    @model_validator(mode="after")
    def _order(self):
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self
