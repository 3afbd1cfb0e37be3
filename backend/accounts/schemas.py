"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from backend.accounts.models import WalletKind
from backend.claims.schemas import BadgePublic
from backend.platform.schemas import Strict


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


class WalletPublic(BaseModel):
    address: str
    kind: WalletKind
    points: int
    voting_power: int
    badges: list[BadgePublic]


# ---------------------------------------------------------------- governance
