"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from backend.claims.models import ClaimMethod, ClaimStatus
from backend.platform.schemas import Strict


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
    # past the node's `finalized` block: no reorg can take it back (false where the node has no such tag)
    finalized: bool = False
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
