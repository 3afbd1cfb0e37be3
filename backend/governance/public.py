"""Votes and delegations as the API shows them."""

from __future__ import annotations

from backend.governance.models import Delegation, Vote
from backend.governance.schemas import DelegationPublic, VotePublic


def vote_public(vote: Vote) -> VotePublic:
    return VotePublic(id=vote.id, proposal_id=vote.proposal_id, voter=vote.voter, support=vote.support,
                      reason=vote.reason, status=vote.status.value, weight=vote.weight, points=vote.points,
                      tx_hash=vote.tx_hash, block_number=vote.block_number, failure=vote.failure,
                      created_at=vote.created_at)


def delegation_public(row: Delegation) -> DelegationPublic:
    return DelegationPublic(id=row.id, delegator=row.delegator, delegatee=row.delegatee, status=row.status.value,
                            failure=row.failure, created_at=row.created_at)

