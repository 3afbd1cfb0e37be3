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


def _aware_datetime(value: datetime) -> datetime:
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
        return _aware_datetime(value)

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


# ---------------------------------------------------------------- governance

def _checksum(value: str | None) -> str | None:
    from web3 import Web3

    if value is None:
        return None
    if not Web3.is_address(value):
        raise ValueError("must be an Ethereum address (0x followed by 40 hexadecimal digits)")
    return Web3.to_checksum_address(value)


class ProposalCreate(Strict):
    """A proposal with its full bilingual text. `kind` decides which of the other fields it needs: a `grant` pays
    `amount` (in whole units, e.g. "0.5") of ETH, or of the ERC-20 `token`, from the treasury to `recipient`; a
    `parameter` change sets the community setting `parameter` to `value`; a `text` decision does nothing on chain."""

    kind: Literal["text", "grant", "parameter"]
    title_ja: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    body_ja: str = Field(default="", max_length=20_000)
    body_en: str = Field(default="", max_length=20_000)
    recipient: str | None = None
    amount: str | None = Field(default=None, pattern=r"^[0-9]{1,30}(\.[0-9]{1,18})?$",
                               description='whole units as a decimal string, e.g. "0.5" (ETH) or "1000" (tokens)')
    token: str | None = Field(default=None, description="ERC-20 address; none for ETH")
    parameter: Literal["voting_delay", "voting_period", "proposal_threshold", "quorum_percent",
                       "timelock_delay"] | None = None
    value: int | None = Field(default=None, ge=0, le=10**12)

    @field_validator("recipient", "token")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return _checksum(value)

    @field_validator("title_ja", "title_en")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # titles go into the on-chain description's first line: a line break there could forge the hash line
        if any(ord(c) < 32 or c in "\u2028\u2029" for c in value):
            raise ValueError("must be one line, without control characters")
        return value

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "ProposalCreate":
        needed = {"grant": ("recipient", "amount"), "parameter": ("parameter", "value"), "text": ()}[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} proposal needs {', '.join(missing)}")
        allowed = {*needed, "token"} if self.kind == "grant" else set(needed)
        unused = [name for name in ("recipient", "amount", "token", "parameter", "value")
                  if name not in allowed and getattr(self, name) is not None]
        if unused:
            raise ValueError(f"a {self.kind} proposal takes no {', '.join(unused)}")
        return self


class GrantPublic(BaseModel):
    recipient: str
    token: str | None = Field(description="ERC-20 address; none for ETH")
    symbol: str
    amount: str = Field(description="whole units, e.g. 0.5")
    amount_base_units: str = Field(description="wei, or the token's smallest unit")


class TransactionPublic(BaseModel):
    """A transaction for the member to send from their own wallet."""

    chain_id: int
    to: str
    data: str
    value: str = "0"


class VoteTally(BaseModel):
    for_: int = Field(alias="for", serialization_alias="for")
    against: int
    abstain: int

    model_config = ConfigDict(populate_by_name=True)


class ProposalPublic(BaseModel):
    id: int
    proposal_id: str = Field(description="the governor's proposal id (uint256, decimal)")
    kind: Literal["text", "grant", "parameter", "external"]
    state: str = Field(description="submitting, awaiting_wallet, failed, pending, active, canceled, defeated, "
                                   "succeeded, queued, executed")
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    proposer_address: str
    text_sha256: str | None = Field(description="SHA-256 of the canonical text; also in the on-chain description")
    grant: GrantPublic | None
    parameter: str | None
    parameter_value: str | None
    voting_starts_at: datetime | None
    voting_ends_at: datetime | None
    votes: VoteTally = Field(description="counted weight (square roots of points in quadratic mode)")
    points: VoteTally = Field(description="points behind the votes")
    quorum: int | None = Field(description="points of votes for and abstain needed; known once voting has started")
    quorum_progress: float | None = Field(description="share of the quorum reached, 0..1 (capped at 1)")
    executable_at: datetime | None
    created_tx: str | None
    queued_tx: str | None
    executed_tx: str | None
    executed_at: datetime | None
    failure: str | None
    transaction: TransactionPublic | None = Field(default=None,
                                                  description="for awaiting_wallet: what to send from the wallet")
    my_vote: VotePublic | None = None
    my_voting_power: int | None = Field(default=None, description="the caller's points at the snapshot")


class VoteCreate(Strict):
    """A vote. Custodial members send `support` (and a `reason`): the backend signs their ballot. Members with their
    own wallet also send the `signature` of the EIP-712 ballot from GET /proposals/{id}/ballot."""

    support: int = Field(ge=0, le=2, description="0 against, 1 for, 2 abstain")
    reason: str = Field(default="", max_length=1000)
    signature: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{130}$")


class VotePublic(BaseModel):
    id: int
    proposal_id: int
    voter: str
    support: int
    reason: str
    status: Literal["accepted", "submitted", "confirmed", "failed"]
    weight: int | None = Field(description="as counted on chain (square root of points in quadratic mode)")
    points: int | None = Field(description="the voter's points at the snapshot")
    tx_hash: str | None
    block_number: int | None
    failure: str | None
    created_at: datetime


class DelegationCreate(Strict):
    """Gives the member's voting power to `delegatee` (the member's own address takes it back). Own-wallet members
    also send `nonce`, `expiry` and the `signature` of the EIP-712 Delegation from GET /me/delegation/typed-data."""

    delegatee: str
    nonce: int | None = Field(default=None, ge=0)
    expiry: int | None = Field(default=None, ge=0)
    signature: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{130}$")

    @field_validator("delegatee")
    @classmethod
    def _address(cls, value: str) -> str:
        return _checksum(value)


class DelegationPublic(BaseModel):
    id: int
    delegator: str
    delegatee: str
    status: Literal["accepted", "submitted", "confirmed", "failed"]
    failure: str | None
    created_at: datetime


class DelegationStatePublic(BaseModel):
    address: str
    delegate: str = Field(description="who votes with the member's points (the member itself unless delegated)")
    points: int
    voting_power: int = Field(description="own points, unless delegated, plus points delegated to the member")
    pending: DelegationPublic | None


class GovernancePublic(BaseModel):
    governor: str
    timelock: str
    counting: Literal["simple", "quadratic"]
    voting_delay_s: int
    voting_period_s: int
    proposal_threshold: int
    quorum_percent: int
    timelock_delay_s: int
    my_voting_power: int | None = None


class TokenBalancePublic(BaseModel):
    token: str | None
    symbol: str
    decimals: int
    balance: str = Field(description="whole units")
    balance_base_units: str


class PayoutPublic(BaseModel):
    proposal_id: int
    title_ja: str
    title_en: str
    recipient: str
    token: str | None
    symbol: str
    amount: str
    amount_base_units: str
    executed_tx: str | None = Field(description="none when executed directly in the timelock")
    executed_at: datetime | None


class TreasuryPublic(BaseModel):
    address: str
    balances: list[TokenBalancePublic]
    payouts: list[PayoutPublic]


ProposalPublic.model_rebuild()


# ---------------------------------------------------------------- perks and missions

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


class _Period(Strict):
    valid_from: datetime
    valid_until: datetime

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _aware_datetime(value)

    @model_validator(mode="after")
    def _order(self):
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class PerkCreate(BilingualTextCreate, _Period):
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


class MissionCreate(BilingualTextCreate, _Period):
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
    status: Literal["open", "completed", "badge_given"] = Field(
        description="completed: the badge is on its way; badge_given: it is on chain")
