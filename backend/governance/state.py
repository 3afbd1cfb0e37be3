"""A proposal's state, derived from indexed data the way the Governor derives it on chain (Governor.state with
GovernorCountingSimple and GovernorTimelockControl), at the timestamp of the last indexed block. Pages never ask the
chain per proposal, and never show a state that the tallies beside it do not support."""

from __future__ import annotations

from sqlalchemy import func, select
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
