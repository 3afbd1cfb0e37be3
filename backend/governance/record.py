"""What the indexer records of the governor's events: proposals (also those made without the API) and votes (also
those cast directly), with the running tallies. Each event is applied exactly once, in the database transaction
that advances the indexer's cursor."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.governance.actions import Actions
from backend.governance.models import Proposal, ProposalKind, RelayStatus, Vote
from backend.governance.text import titles_from_description
from backend.platform.orm import utcnow

SUPPORT_FIELDS = {0: "against", 1: "for", 2: "abstain"}


def _user_id(session: Session, address: str) -> int | None:
    return session.scalar(select(User.id).where(User.wallet_address == address))


def record_proposal_created(session: Session, args, tx_hash: str) -> None:
    proposal_id = str(args["proposalId"])
    proposal = session.scalar(select(Proposal).where(Proposal.proposal_id == proposal_id))
    if proposal is None:  # proposed on chain without the API: only the on-chain description is known
        title_ja, title_en = titles_from_description(args["description"])
        actions = Actions(list(args["targets"]), list(args["values"]), [bytes(c) for c in args["calldatas"]])
        proposal = Proposal(
            proposal_id=proposal_id, proposer_user_id=_user_id(session, args["proposer"]),
            proposer_address=args["proposer"], kind=ProposalKind.external, title_ja=title_ja, title_en=title_en,
            body_ja="", body_en="", description=args["description"], actions=actions.as_json(),
        )
        session.add(proposal)
    proposal.status = RelayStatus.confirmed
    proposal.snapshot, proposal.deadline = args["voteStart"], args["voteEnd"]
    proposal.created_tx = proposal.created_tx or tx_hash
    session.flush()


def record_vote_cast(session: Session, args, tx_hash: str, block: int, points: int) -> None:
    proposal = session.scalar(select(Proposal).where(Proposal.proposal_id == str(args["proposalId"])))
    if proposal is None:
        return  # a proposal made before the indexer's start block
    support, weight, voter = args["support"], args["weight"], args["voter"]
    field = SUPPORT_FIELDS[support]
    setattr(proposal, f"votes_{field}", getattr(proposal, f"votes_{field}") + weight)
    setattr(proposal, f"points_{field}", getattr(proposal, f"points_{field}") + points)
    vote = session.scalar(select(Vote).where(Vote.proposal_id == proposal.id, Vote.voter == voter))
    if vote is None:  # cast without the API
        vote = Vote(proposal_id=proposal.id, voter=voter, user_id=_user_id(session, voter), support=support,
                    reason=args["reason"], signature=None)
        session.add(vote)
    vote.support, vote.reason, vote.weight, vote.points = support, args["reason"], weight, points
    vote.status, vote.tx_hash, vote.block_number = RelayStatus.confirmed, tx_hash, block
    vote.confirmed_at = vote.confirmed_at or utcnow()
    session.flush()


def timelock_operation_id(governor: str, actions: dict, description: str) -> str:
    """The id under which the governor queued the proposal's batch on the timelock (GovernorTimelockControl:
    `hashOperationBatch(targets, values, calldatas, 0, bytes20(governor) ^ keccak256(description))`), which the
    timelock's `Cancelled` event names: a canceller (the guardian) cancels the operation, not the proposal."""
    batch = Actions.from_json(actions)
    salt = bytes(a ^ b for a, b in zip(bytes.fromhex(governor.removeprefix("0x")).ljust(32, b"\0"),
                                       keccak(text=description)))
    return "0x" + keccak(encode(["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
                                [batch.targets, batch.values, batch.calldatas, b"\0" * 32, salt])).hex()


def record_timelock_cancelled(session: Session, operation_id: str) -> None:
    """The timelock's queued operation was cancelled (by the guardian, or by the governor's own cancel): its proposal
    can no longer be executed, and the governor reports it as Canceled."""
    proposal = session.scalar(select(Proposal).where(Proposal.timelock_id == operation_id))
    if proposal is not None and proposal.closed_state != "executed":
        proposal.canceled, proposal.closed_state = True, "canceled"
