"""Signed ballots and delegations: the EIP-712 messages members sign, and the calls that relay them.

The domain always comes from the contract's `eip712Domain()` (ERC-5267). Ballot nonces are the governor's keyed
nonces (GovernorNoncesKeyed, key = the low 192 bits of the proposal id): one sequence per voter and proposal, so
one member's votes on different proposals never wait for each other.
"""

from __future__ import annotations

from web3.contract import Contract

from backend.platform.chain import reads
from backend.platform.chain.eip712 import (
    BALLOT_TYPES,
    DELEGATION_TYPES,
    EXTENDED_BALLOT_TYPES,
    domain_from_erc5267,
)

# IGovernor.ProposalState, in order
PROPOSAL_STATES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed")
SUPPORT = {0: "against", 1: "for", 2: "abstain"}
KEY_MASK = (1 << 192) - 1
SEQUENCE_MASK = (1 << 64) - 1  # a keyed nonce is key << 64 | sequence

_domains: dict[str, dict] = {}


def domain_of(contract: Contract) -> dict:
    """The contract's EIP-712 domain (read once per contract: the contracts are not upgradeable)."""
    domain = _domains.get(contract.address)
    if domain is None:
        domain = _domains[contract.address] = domain_from_erc5267(contract.functions.eip712Domain().call())
    return domain


def knows_domain(contract: Contract) -> bool:
    """Whether `domain_of(contract)` is answered without a call to the node."""
    return contract.address in _domains


def keyed_nonce(governor: Contract, voter: str, proposal_id: int) -> int:
    return reads.read(governor, "nonces(address,uint192)", voter, proposal_id & KEY_MASK)


def plain_nonce(governor: Contract, voter: str) -> int:
    return governor.get_function_by_signature("nonces(address)")(voter).call()


def ballot(proposal_id: int, support: int, voter: str, nonce: int, reason: str) -> tuple[str, list, dict]:
    """(primary type, fields, message): a `Ballot`, or an `ExtendedBallot` when there is a reason (the reason is then
    part of what the voter signs, and of the VoteCast event)."""
    message = {"proposalId": proposal_id, "support": support, "voter": voter, "nonce": nonce}
    if reason:
        return "ExtendedBallot", EXTENDED_BALLOT_TYPES, {**message, "reason": reason, "params": b""}
    return "Ballot", BALLOT_TYPES, message


def cast_call(proposal_id: int, support: int, voter: str, reason: str, signature: bytes) -> str:
    """The governor's calldata relaying a signed ballot (encoded without web3's per-call ABI lookup: the relayer
    encodes every vote of a burst)."""
    if reason:
        data = reads.encode_call("castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes)",
                                 proposal_id, support, voter, reason, b"", signature)
    else:
        data = reads.encode_call("castVoteBySig(uint256,uint8,address,bytes)", proposal_id, support, voter, signature)
    return "0x" + data.hex()


def delegation(delegatee: str, nonce: int, expiry: int) -> tuple[str, list, dict]:
    return "Delegation", DELEGATION_TYPES, {"delegatee": delegatee, "nonce": nonce, "expiry": expiry}


def delegate_call(points: Contract, delegatee: str, nonce: int, expiry: int, signature: bytes) -> str:
    r, s, v = signature[:32], signature[32:64], signature[64]
    return points.encode_abi("delegateBySig", args=[delegatee, nonce, expiry, v if v >= 27 else v + 27, r, s])


def is_quadratic(governor: Contract) -> bool:
    """Whether the deployed governor counts the square root of points (KyosoQuadraticGovernor)."""
    return "weight=sqrt" in governor.functions.COUNTING_MODE().call()
