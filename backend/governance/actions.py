"""What a proposal does when executed, as the governor's (targets, values, calldatas).

The timelock executes every action and holds the treasury, so a grant is paid from the timelock's balance and a
parameter change calls a function that only the timelock (governance) may call.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak
from web3.contract import Contract

ERC20_TRANSFER = keccak(text="transfer(address,uint256)")[:4]

# name -> (contract, function, lowest, highest): the community parameters the timelock owns, with the bounds the
# contracts themselves enforce (or, for the upper bounds, what a community could sensibly want).
PARAMETERS: dict[str, tuple[str, str, int, int]] = {
    "voting_delay": ("governor", "setVotingDelay", 0, 30 * 24 * 3600),
    "voting_period": ("governor", "setVotingPeriod", 3600, 90 * 24 * 3600),
    "proposal_threshold": ("governor", "setProposalThreshold", 0, 10**12),
    "quorum_percent": ("governor", "updateQuorumNumerator", 1, 100),
    "timelock_delay": ("timelock", "updateDelay", 0, 30 * 24 * 3600),
    # what an organization may issue (ParticipationBadges, docs/governance.md "Who may issue, and how much")
    "max_event_points": ("badges", "setMaxEventPoints", 1, 1_000_000),
    "points_allowance": ("badges", "setDefaultAllowance", 0, 10**12),
    "allowance_period": ("badges", "setAllowancePeriod", 3600, 366 * 24 * 3600),
    "organization_allowance": ("badges", "setOrganizationAllowance", 0, 10**12),  # of one organization
}


@dataclass(frozen=True)
class Actions:
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]

    def as_json(self) -> dict:
        return {"targets": self.targets, "values": [str(v) for v in self.values],
                "calldatas": ["0x" + c.hex() for c in self.calldatas]}

    @staticmethod
    def from_json(data: dict) -> Actions:
        return Actions(list(data["targets"]), [int(v) for v in data["values"]],
                       [bytes.fromhex(c.removeprefix("0x")) for c in data["calldatas"]])


def text_decision(timelock: Contract) -> Actions:
    # The governor needs at least one action; a call with no data and no value to the timelock does nothing.
    return Actions([timelock.address], [0], [b""])


def grant(recipient: str, amount: int, token: str | None) -> Actions:
    if token is None:
        return Actions([recipient], [amount], [b""])
    return Actions([token], [0], [ERC20_TRANSFER + encode(["address", "uint256"], [recipient, amount])])


def parameter_change(contracts, name: str, value: int, organization_chain_id: int | None = None) -> Actions:
    """`contracts`: the deployment's governor, timelock and badges; `organization_chain_id` for a parameter of one
    organization."""
    contract_name, function, _low, _high = PARAMETERS[name]
    contract = getattr(contracts, contract_name)
    args = [value] if organization_chain_id is None else [organization_chain_id, value]
    return Actions([contract.address], [0], [bytes.fromhex(contract.encode_abi(function, args=args)[2:])])
