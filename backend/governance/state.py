"""A proposal's state, derived from indexed data the way the Governor derives it on chain (Governor.state with
GovernorCountingSimple and GovernorTimelockControl), at the timestamp of the last indexed block. Pages never ask the
chain per proposal, and never show a state that the tallies beside it do not support."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from backend.governance.models import Proposal, RelayStatus
from backend.platform.models import IndexerCursor

# Before a proposal is on chain, its state is where the relayer has it.
OFF_CHAIN = {RelayStatus.accepted: "submitting", RelayStatus.submitted: "submitting", RelayStatus.failed: "failed",
             RelayStatus.awaiting_wallet: "awaiting_wallet"}


def chain_now(session: Session) -> int | None:
    """The timestamp of the last indexed block (see IndexerCursor.block_timestamp): the clock of every state shown."""
    return session.scalar(select(func.max(IndexerCursor.block_timestamp)))


def quorum_points(proposal: Proposal) -> int:
    """Points that count toward the quorum: those behind votes for and abstain (never square roots)."""
    return proposal.points_for + proposal.points_abstain


def quorum_reached(proposal: Proposal) -> bool:
    return proposal.quorum is not None and quorum_points(proposal) >= proposal.quorum


def state_column(now: int | None) -> ColumnElement[str]:
    """proposal_state as an SQL expression, for the rows of a list filtered by state in the database (and counted
    there) instead of every proposal read to compute its state. The same rules in the same order; a test holds the
    two together."""
    below_quorum = or_(Proposal.quorum.is_(None),
                       Proposal.points_for + Proposal.points_abstain < Proposal.quorum)
    whens = [(Proposal.status == status, state) for status, state in OFF_CHAIN.items()]
    whens += [(or_(Proposal.executed_tx.is_not(None), Proposal.closed_state == "executed"), "executed"),
              (Proposal.canceled.is_(True), "canceled")]
    if now is None:
        return case(*whens, else_="pending")
    whens += [(or_(Proposal.snapshot.is_(None), Proposal.snapshot >= now), "pending"),
              (Proposal.deadline >= now, "active"),
              (or_(below_quorum, Proposal.votes_for <= Proposal.votes_against), "defeated"),
              (Proposal.eta.is_(None), "succeeded")]
    return case(*whens, else_="queued")


def proposal_state(proposal: Proposal, now: int | None) -> str:
    if proposal.status != RelayStatus.confirmed:
        return OFF_CHAIN[proposal.status]
    if proposal.executed_tx or proposal.closed_state == "executed":
        return "executed"
    if proposal.canceled:
        return "canceled"
    if now is None or proposal.snapshot is None or proposal.snapshot >= now:
        return "pending"
    if proposal.deadline >= now:
        return "active"
    if not quorum_reached(proposal) or proposal.votes_for <= proposal.votes_against:
        return "defeated"
    return "succeeded" if proposal.eta is None else "queued"
