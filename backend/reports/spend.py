"""What the sponsor paid: every transaction the backend's keys sent and settled (the relayer's own, the
organizations' and the members' keys; mined or reverted, as both cost), per budget it was charged to (an organization,
or the community's governance) and per kind of transaction (its purpose), with the gas of its receipt and the fee paid
in wei (gasUsed x effectiveGasPrice, OutboundTx.fee_paid). The sums are exact: fees are added in Python, as integers
(a year's fees on a busy chain pass what a 64-bit column sums)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.governance import budget as governance_budget
from backend.organizations import service as organizations
from backend.organizations.models import Organization
from backend.platform.errors import Forbidden
from backend.platform.models import OutboundTx, TxStatus
from backend.reports.schemas import OrganizationBudgetPublic, SpendPublic, SpendRowPublic

SPEND_HEADER = ["budget", "organization_id", "organization_ja", "organization_en", "purpose", "transactions",
                "reverted", "gas_used", "fee_paid_wei"]


def spend(*, session: Session) -> SpendPublic:
    """The report (no permission check: `sponsor_spend` is what the routes call)."""
    totals: dict[tuple[int | None, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # count, reverted, gas, fee
    unknown = 0
    settled = (select(OutboundTx.organization_id, OutboundTx.purpose, OutboundTx.status, OutboundTx.gas_used,
                      OutboundTx.fee_paid).where(OutboundTx.gas_used.is_not(None))
               .execution_options(yield_per=5000))
    for organization_id, purpose, status, gas_used, fee_paid in session.execute(settled):
        row = totals[(organization_id, purpose)]
        row[0] += 1
        row[1] += status == TxStatus.reverted
        row[2] += gas_used
        row[3] += fee_paid or 0
        unknown += fee_paid is None
    orgs = {o.id: o for o in session.scalars(select(Organization).order_by(Organization.id)).all()}
    rows = []
    for (organization_id, purpose), (count, reverted, gas, fee) in sorted(
            totals.items(), key=lambda item: (item[0][0] is None, item[0][0] or 0, item[0][1])):
        org = orgs.get(organization_id)
        rows.append(SpendRowPublic(organization_id=organization_id, organization_ja=org.name_ja if org else None,
                                   organization_en=org.name_en if org else None, purpose=purpose, transactions=count,
                                   reverted=reverted, gas_used=gas, fee_paid_wei=str(fee)))
    fees = defaultdict(int)
    for (organization_id, _purpose), (_count, _reverted, _gas, fee) in totals.items():
        fees[organization_id] += fee
    budgets = [OrganizationBudgetPublic(organization_id=o.id, organization_ja=o.name_ja, organization_en=o.name_en,
                                        gas_budget=o.gas_budget, gas_used=o.gas_used, gas_reserved=o.gas_reserved,
                                        fee_paid_wei=str(fees[o.id])) for o in orgs.values()]
    return SpendPublic(rows=rows, transactions=sum(r.transactions for r in rows),
                       gas_used=sum(r.gas_used for r in rows), fee_paid_wei=str(sum(fees.values())),
                       fees_unknown=unknown, organizations=budgets,
                       governance=governance_budget.budget_public(session=session),
                       governance_fee_paid_wei=str(fees[None]))


def sponsor_spend(*, session: Session, user: User) -> SpendPublic:
    """The report, for the sponsor's accounts only (the city's reporting; it names every organization's spend)."""
    if not organizations.is_sponsor(user):
        raise Forbidden("not_sponsor")
    return spend(session=session)


def spend_rows(report: SpendPublic) -> list[list]:
    """The report's rows under SPEND_HEADER, for the CSV download."""
    return [["organization" if r.organization_id is not None else "governance",
             "" if r.organization_id is None else r.organization_id, r.organization_ja or "", r.organization_en or "",
             r.purpose, r.transactions, r.reverted, r.gas_used, r.fee_paid_wei] for r in report.rows]
