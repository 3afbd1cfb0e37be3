"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from backend.accounts.models import TokenKind, WalletKind
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


# An EOA's signature is 65 bytes; a contract wallet's (EIP-1271) is whatever the wallet reads: a Safe's is 65 bytes
# per owner, more with contract owners.
Signature = Annotated[str, Field(
    pattern=r"^0x([0-9a-fA-F]{2})*$", max_length=2 + 2 * 4096,
    description="personal_sign signature (65 bytes), or a contract wallet's EIP-1271 signature")]


class SiweLoginCreate(Strict):
    message: str = Field(max_length=4000)
    signature: Signature


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class MailSentPublic(BaseModel):
    """A sign-up or a password reset was taken: a mail is on its way to `email`. The same whether or not the address
    has an account (a verification link or a reset link to a new or known one; a note to the others)."""

    status: Literal["mail_sent"] = "mail_sent"
    email: str


class EmailVerifiedPublic(BaseModel):
    email: str
    email_verified: Literal[True] = True


class PasswordResetCreate(Strict):
    email: EmailStr
    locale: Literal["ja", "en"] | None = Field(
        default=None, description="language of the note to an address without an account (default: the request's)")


class PasswordResetConfirm(Strict):
    token: str = Field(min_length=16, max_length=100, description="from the mailed link (#t=...)")
    password: str = Field(min_length=8, max_length=200)


class EmailVerificationConfirm(Strict):
    token: str = Field(min_length=16, max_length=100, description="from the mailed link (#t=...)")


class PasswordChange(Strict):
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


class SessionPublic(BaseModel):
    """One of the member's log-ins (a web session, an API token), named by an id that cannot be used to log in."""

    id: str
    kind: TokenKind
    user_agent: str | None
    created_at: datetime
    expires_at: datetime
    current: bool = Field(description="the log-in this request was made with")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str | None
    display_name: str | None
    locale: str
    wallet_address: str
    wallet_kind: WalletKind
    email_verified: bool = Field(description="the address is proven by its mailed link; roles that spend or issue "
                                             "(organizer, steward, sponsor) need it")
    created_at: datetime


class PasswordConfirm(Strict):
    password: str = Field(max_length=200)


class WalletExportCreate(Strict):
    password: str = Field(max_length=200)
    message: str = Field(max_length=4000, description="SIWE message signed by the new wallet for this move "
                                                      "(GET /auth/siwe/message?purpose=wallet_export)")
    signature: Signature


class WalletPublic(BaseModel):
    address: str
    kind: WalletKind
    points: int
    voting_power: int
    badges: list[BadgePublic]


# ---------------------------------------------------------------- governance
