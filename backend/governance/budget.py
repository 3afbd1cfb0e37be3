"""The community's governance budget: the gas the sponsor pays for what members do together rather than for an
organization. One row (GovernanceBudget, id 1), set by the sponsor (PUT /sponsor/governance-budget); the relayer
charges it with the receipt of every transaction it sends without an organization: members' `propose` and their
keys' top-ups, relayed votes and delegations, queue and execute, moves to an own wallet.

What stops when it runs short, and why (think of someone who wants to spend it, or to stop everyone else):

- New proposals (402 `governance_budget_exhausted`). A proposal in flight (not yet closed on chain) holds
  PROPOSAL_GAS_ESTIMATE, its `propose`, its key's top-up, and the queue and execute that follow if it passes, so a
  flood of proposals sent at once stops at the line, not after the relayer has spent past it. An own-wallet
  member's proposal waiting for the member's wallet holds nothing: it costs nothing until it is on chain, and holding
  would let anyone block everyone's proposals for free.
- Proposals (and delegations) stop at PROPOSALS_SHARE of the budget, not at all of it: the rest is kept for the
  votes on the proposals already made, and their execution. A flood can use up the proposals' share, never the
  votes' part.
- New delegations, at the same line. A member may delegate again as often as they like (one at a time), each ~93,000
  gas: unchecked, they are the other way to spend the budget; a delegation refused today can be made tomorrow.
- Never refused: votes, queue and execute, and moves to an own wallet. A vote is one per member and proposal, and the
  proposals are bounded above, so their total is bounded; a member's vote must not be lost because someone else spent
  the budget, and its window closes. A passed proposal must be enacted; leaving with one's badges is a member's right.
  They are charged all the same, so the budget can end above 100% by the votes and executions of proposals already
  made; the sponsor sees it in the spend report (backend/reports/spend.py).

A proposal is also limited per account (backend/platform/rate_limits.py PROPOSALS_PER_ACCOUNT), and the governor's
proposal threshold asks for points, which come from attending events: a flood needs many members with points.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.governance.models import GovernanceBudget, Proposal, RelayStatus
from backend.governance.schemas import GovernanceBudgetPublic
from backend.organizations import service as organizations
from backend.platform.errors import Forbidden, PaymentRequired

BUDGET_ROW = 1
# Generous: 2,000,000,000 gas is ~20,000 ballots at the worst measured cost per ballot (docs/gas.md), or 4,000
# proposals at the estimate below; the sponsor lowers or raises it.
DEFAULT_GAS_BUDGET = 2_000_000_000
# A proposal's way through the relayer: `propose` (~105,000 with a new snapshot slot), its key's top-up (21,000),
# queue (~141,000) and execute (~115,000 for an ETH grant), measured in docs/gas.md, with room for larger actions.
PROPOSAL_GAS_ESTIMATE = 500_000
# A delegation relayed at its worst measured cost (182,700, docs/gas.md).
DELEGATION_GAS_ESTIMATE = 200_000
# Proposals and delegations may take the budget up to this share (numerator, denominator); the rest is kept for votes
# and executions, which are never refused.
PROPOSALS_SHARE = (4, 5)
# Proposals that hold their estimate: on their way or on chain, and not closed (defeated, executed, ...) yet.
IN_FLIGHT = (RelayStatus.accepted, RelayStatus.submitted, RelayStatus.confirmed)


def budget_row(session: Session) -> GovernanceBudget:
    """The row (made with the default budget if a database has none yet; the migration makes it)."""
    row = session.get(GovernanceBudget, BUDGET_ROW)
    if row is None:
        try:
            with session.begin_nested():
                row = GovernanceBudget(id=BUDGET_ROW, gas_budget=DEFAULT_GAS_BUDGET, gas_used=0)
                session.add(row)
        except IntegrityError:  # made a moment ago by another request
            row = session.get(GovernanceBudget, BUDGET_ROW)
    return row


def proposals_in_flight(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.status.in_(IN_FLIGHT), Proposal.closed_state.is_(None)))


def stop_line(gas_budget: int) -> int:
    numerator, denominator = PROPOSALS_SHARE
    return gas_budget * numerator // denominator


def check_room(*, gas_budget: int, gas_used: int, reserved: int, gas: int) -> None:
    """The rule: what is used and held, plus `gas`, must stay within the proposals' share of the budget."""
    if gas_used + reserved + gas > stop_line(gas_budget):
        raise PaymentRequired("governance_budget_exhausted", gas_budget=gas_budget, gas_used=gas_used)


def budget_public(*, session: Session) -> GovernanceBudgetPublic:
    row, in_flight = budget_row(session), proposals_in_flight(session)
    return GovernanceBudgetPublic(gas_budget=row.gas_budget, gas_used=row.gas_used,
                                  gas_reserved=in_flight * PROPOSAL_GAS_ESTIMATE, proposals_in_flight=in_flight,
                                  proposals_stop_at=stop_line(row.gas_budget))


def refuse_proposal_if_spent(*, session: Session) -> None:
    """402 when a new proposal would take the budget past the proposals' share (read afresh)."""
    row = budget_row(session)
    session.refresh(row)
    check_room(gas_budget=row.gas_budget, gas_used=row.gas_used,
               reserved=proposals_in_flight(session) * PROPOSAL_GAS_ESTIMATE, gas=PROPOSAL_GAS_ESTIMATE)


def refuse_delegation_if_spent(*, session: Session) -> None:
    """402 when a delegation would take the budget past the proposals' share."""
    row = budget_row(session)
    session.refresh(row)
    check_room(gas_budget=row.gas_budget, gas_used=row.gas_used,
               reserved=proposals_in_flight(session) * PROPOSAL_GAS_ESTIMATE, gas=DELEGATION_GAS_ESTIMATE)


def charge(session: Session, gas: int) -> None:
    """The relayer settled a governance transaction (mined or reverted: both cost)."""
    if session.execute(update(GovernanceBudget).where(GovernanceBudget.id == BUDGET_ROW)
                       .values(gas_used=GovernanceBudget.gas_used + gas)
                       .execution_options(synchronize_session=False)).rowcount != 1:
        budget_row(session).gas_used += gas


def _sponsor(user: User) -> None:
    if not organizations.is_sponsor(user):
        raise Forbidden("not_sponsor")


def read_budget(*, session: Session, user: User) -> GovernanceBudgetPublic:
    """The governance budget and what is used and held of it (the sponsor's accounts only)."""
    _sponsor(user)
    return budget_public(session=session)


def set_budget(*, session: Session, user: User, gas_budget: int) -> GovernanceBudgetPublic:
    """The sponsor sets the governance budget; nobody else may."""
    _sponsor(user)
    budget_row(session).gas_budget = gas_budget
    session.commit()
    return budget_public(session=session)
