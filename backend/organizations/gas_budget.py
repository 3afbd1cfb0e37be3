"""An organization's gas budget: what its queued claims will cost is reserved when they are accepted.

`organizations.gas_reserved` is GAS_PER_CLAIM_ESTIMATE for every claim of the organization that is accepted or
submitted: added in the transaction that stores the claim, taken off in the one that confirms or fails it. A claim is
refused (402) when `gas_used + gas_reserved + one more estimate` would pass `gas_budget`. The reservation is one
conditional UPDATE, so parallel claims cannot all see the same headroom; it replaces counting the organization's
pending claims on every request, which grew with the queue (1.4 ms of SQLite per claim at 10,000 pending).
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, case, update
from sqlalchemy.orm import Session

from backend.organizations.models import Organization

# Estimated gas per claim, for refusing claims beyond an organization's budget before they are queued.
GAS_PER_CLAIM_ESTIMATE = 60_000

# Built once: every claim runs one of them, on the one thread that stores claims (backend/platform/group_commit.py).
_RESERVE = (update(Organization).where(Organization.id == bindparam("organization_id"))
            .values(gas_reserved=Organization.gas_reserved + bindparam("gas"))
            .execution_options(synchronize_session=False))
_RESERVE_WITHIN_BUDGET = _RESERVE.where(
    Organization.gas_used + Organization.gas_reserved + bindparam("gas") <= Organization.gas_budget)


def reserve(session: Session | Connection, organization_id: int, claims: int = 1, *,
            within_budget: bool = True) -> bool:
    """Reserves the estimate of `claims` claims; False (nothing reserved) if that would pass the budget.
    `within_budget=False` reserves regardless (a mission's badge, owed once the member has done the mission)."""
    statement = _RESERVE_WITHIN_BUDGET if within_budget else _RESERVE
    return session.execute(statement, {"organization_id": organization_id,
                                       "gas": claims * GAS_PER_CLAIM_ESTIMATE}).rowcount == 1


def release(session: Session, organization_id: int, claims: int) -> None:
    """Takes off the estimate of `claims` claims that were confirmed or failed (never below zero: claims stored by
    hand, e.g. in a benchmark's set-up, reserved nothing)."""
    if claims <= 0:
        return
    gas = claims * GAS_PER_CLAIM_ESTIMATE
    session.execute(update(Organization).where(Organization.id == organization_id)
                    .values(gas_reserved=case((Organization.gas_reserved > gas, Organization.gas_reserved - gas),
                                              else_=0))
                    .execution_options(synchronize_session=False))
