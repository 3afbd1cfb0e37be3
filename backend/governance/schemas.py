"""Request (`*Create`) and response (`*Public`) schemas of this domain. No response schema has a field for a key,
password or code hash: what is not in these classes cannot leak through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.platform.schemas import Strict, checksum_address


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
                       "timelock_delay", "max_event_points", "points_allowance", "allowance_period",
                       "organization_allowance"] | None = None
    value: int | None = Field(default=None, ge=0, le=10**12)
    organization_id: int | None = Field(default=None, ge=1, le=2**62,
                                        description="the organization of an `organization_allowance` change")

    @field_validator("recipient", "token")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return checksum_address(value)

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
        if self.parameter == "organization_allowance":
            needed = (*needed, "organization_id")
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} proposal needs {', '.join(missing)}")
        allowed = {*needed, "token"} if self.kind == "grant" else set(needed)
        unused = [name for name in ("recipient", "amount", "token", "parameter", "value", "organization_id")
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
        return checksum_address(value)


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


class GovernanceBudgetUpdate(Strict):
    gas_budget: int = Field(ge=0, le=10**12)


class GovernanceBudgetPublic(BaseModel):
    gas_budget: int = Field(description="gas the sponsor pays for the community's governance")
    gas_used: int = Field(description="gas of the governance transactions sent so far (receipts)")
    gas_reserved: int = Field(description="the estimate held by proposals not yet closed (their queue and execute)")
    proposals_in_flight: int
    proposals_stop_at: int = Field(description="new proposals and delegations are refused (402) once used and "
                                               "reserved gas would pass this share of the budget; votes, queue, "
                                               "execute and moves to an own wallet never are")


ProposalPublic.model_rebuild()


# ---------------------------------------------------------------- perks and missions
