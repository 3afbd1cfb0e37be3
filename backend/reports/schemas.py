"""Response schemas of the reports domain: the sponsor's spend."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.governance.schemas import GovernanceBudgetPublic


class SpendRowPublic(BaseModel):
    organization_id: int | None = Field(description="null: the community's governance budget")
    organization_ja: str | None
    organization_en: str | None
    purpose: str = Field(description="the kind of transaction: register_organization, grant_issuer, fund, "
                                     "create_event, issue, propose, fund_member, vote, delegate, queue, execute, "
                                     "migrate, ...")
    transactions: int = Field(description="settled transactions (mined or reverted: both cost)")
    reverted: int
    gas_used: int = Field(description="sum of the receipts' gasUsed")
    fee_paid_wei: str = Field(description="sum of gasUsed x effectiveGasPrice, in wei (a decimal string: it may pass "
                                          "what a JSON number holds exactly)")


class OrganizationBudgetPublic(BaseModel):
    organization_id: int
    organization_ja: str
    organization_en: str
    gas_budget: int
    gas_used: int = Field(description="what its budget was charged (receipts)")
    gas_reserved: int = Field(description="the estimate of its queued claims and of its events not yet on chain")
    fee_paid_wei: str


class SpendPublic(BaseModel):
    rows: list[SpendRowPublic] = Field(description="per organization (then governance) and purpose")
    transactions: int
    gas_used: int
    fee_paid_wei: str
    fees_unknown: int = Field(description="transactions settled before fees were recorded (their fee counts as 0)")
    organizations: list[OrganizationBudgetPublic]
    governance: GovernanceBudgetPublic
    governance_fee_paid_wei: str = Field(description="the fees of the transactions charged to governance")
