"""An organization's gas budget: everything the sponsor pays for the organization is charged to it, and what is queued
is reserved before it is accepted.

Charged (the relayer's `_settle` adds every receipt's gasUsed to `organizations.gas_used`, mined or reverted): its
registration and issuer grant (sent by the relayer's key), the top-ups of its key, its events' `createEvent` and its
badges' `issue`, missions' included. `organizations.gas_reserved` holds the estimate of what is accepted and not yet
charged: GAS_PER_CLAIM_ESTIMATE for every claim that is accepted or submitted (taken off when it is confirmed or
fails) and EVENT_GAS_ESTIMATE for every event or mission not yet on chain (taken off when its `createEvent` is mined).

Refused with 402 `gas_budget_exhausted` (naming the organization) before anything is stored, once
`gas_used + gas_reserved` leaves no room for it: a claim, a new event or mission, a new sheet of claim codes (a sheet
costs nothing itself, but every code on it is a claim the budget could not pay). A mission's badge is owed once the
member has done the mission: when the budget has no room it is stored `owed` and issued when the sponsor raises the
budget (backend/missions/awards.py `pay_owed`), never lost.

Each reservation is one conditional UPDATE, so parallel requests cannot all see the same headroom; it replaces
counting the organization's pending claims on every request, which grew with the queue (1.4 ms of SQLite per claim at
10,000 pending).
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, case, update
from sqlalchemy.orm import Session

from backend.organizations.models import Organization
from backend.platform.errors import PaymentRequired

# Estimated gas per claim, for refusing claims beyond an organization's budget before they are queued.
GAS_PER_CLAIM_ESTIMATE = 60_000
# Estimated gas of an event or a mission until it is on chain: `createEvent` (89,151 measured, docs/gas.md) and the
# top-up of the organization's key that may come before it (21,000), with room for a longer transaction.
EVENT_GAS_ESTIMATE = 150_000

# Built once: every claim runs one of them, on the one thread that stores claims (backend/platform/group_commit.py).
_RESERVE_WITHIN_BUDGET = (
    update(Organization).where(Organization.id == bindparam("organization_id"),
                               Organization.gas_used + Organization.gas_reserved + bindparam("gas")
                               <= Organization.gas_budget)
    .values(gas_reserved=Organization.gas_reserved + bindparam("gas")).execution_options(synchronize_session=False))


def reserve(session: Session | Connection, organization_id: int, claims: int = 1) -> bool:
    """Reserves the estimate of `claims` claims; False (nothing reserved) if that would pass the budget."""
    return reserve_gas(session, organization_id, claims * GAS_PER_CLAIM_ESTIMATE)


def reserve_gas(session: Session | Connection, organization_id: int, gas: int) -> bool:
    """Reserves `gas`; False (nothing reserved) if that would pass the budget."""
    return session.execute(_RESERVE_WITHIN_BUDGET, {"organization_id": organization_id, "gas": gas}).rowcount == 1


def reserve_again(session: Session, organization_id: int, gas: int) -> None:
    """Reserves `gas` whatever the room: work that was settled and taken out of the chain again by a reorg (its
    charge was taken off, so the total stays as it was before the settlement)."""
    if gas > 0:
        session.execute(update(Organization).where(Organization.id == organization_id)
                        .values(gas_reserved=Organization.gas_reserved + gas)
                        .execution_options(synchronize_session=False))


def release(session: Session, organization_id: int, claims: int) -> None:
    """Takes off the estimate of `claims` claims that were confirmed or failed (never below zero: claims stored by
    hand, e.g. in a benchmark's set-up, reserved nothing)."""
    if claims > 0:
        release_gas(session, organization_id, claims * GAS_PER_CLAIM_ESTIMATE)


def release_gas(session: Session | Connection, organization_id: int, gas: int) -> None:
    """Takes off a reservation of `gas` (never below zero)."""
    if gas <= 0:
        return
    session.execute(update(Organization).where(Organization.id == organization_id)
                    .values(gas_reserved=case((Organization.gas_reserved > gas, Organization.gas_reserved - gas),
                                              else_=0))
                    .execution_options(synchronize_session=False))


def exhausted(org: Organization) -> PaymentRequired:
    return PaymentRequired("gas_budget_exhausted", organization=org.name_en)


def refuse_if_spent(session: Session, organization_id: int, gas: int = GAS_PER_CLAIM_ESTIMATE) -> None:
    """402 when the organization's budget has no room left for `gas` (by default one claim): read afresh, a claim
    may have taken the last of it a moment ago."""
    org = session.get(Organization, organization_id, populate_existing=True)
    if org.gas_used + org.gas_reserved + gas > org.gas_budget:
        raise exhausted(org)


def reserve_event(session: Session, organization_id: int) -> None:
    """Reserves what a new event (or mission) costs until it is on chain, in the caller's transaction; 402 if the
    budget has no room for it."""
    if not reserve_gas(session, organization_id, EVENT_GAS_ESTIMATE):
        raise exhausted(session.get(Organization, organization_id))
