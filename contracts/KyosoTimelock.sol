// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title The community treasury and the executor of passed proposals.
 * @notice OpenZeppelin's TimelockController, unchanged; named here so that deployments and the registry can refer
 * to it. It holds the treasury (ETH and ERC-20) and administers the badge contract and the points ledger. Deploy it
 * with the governor as its only proposer and canceller, anyone as executor, and no admin.
 */
contract KyosoTimelock is TimelockController {
    /// @param minDelay Seconds between queueing and executing a passed proposal.
    /// @param proposers Accounts that may schedule operations (the governor).
    /// @param executors Accounts that may execute ready operations (address(0): anyone).
    /// @param admin Optional temporary admin for set-up; address(0) for none.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
