"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from backend.organizations.models import OrganizationStatus, Role
from backend.platform.schemas import Strict


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
    status: OrganizationStatus = Field(description="pending until a steward approves it; nothing of it is on chain "
                                                   "before")
    status_reason: str | None
    gas_budget: int
    gas_used: int
    points_allowance: int | None = Field(description="its own points allowance per period, set by governance; "
                                                     "null: the community's default")


class SuspensionCreate(Strict):
    reason: str = Field(min_length=1, max_length=500)


class GasBudgetUpdate(Strict):
    gas_budget: int = Field(ge=0, le=10**12)


class InvitationCreate(Strict):
    role: Role = Role.organizer


class InvitationPublic(BaseModel):
    id: str = Field(description="the invitation's id, to revoke it (DELETE /organizations/{id}/invitations/{id})")
    token: str = Field(description="shown once: send it to the person invited")
    url: str
    role: Role
    expires_at: datetime


class PendingInvitationPublic(BaseModel):
    """An invitation not yet accepted (its token is not stored: it was shown once, to the owner who made it)."""

    id: str
    role: Role
    expires_at: datetime


class MemberPublic(BaseModel):
    user_id: int
    display_name: str | None
    email: str | None
    role: Role
