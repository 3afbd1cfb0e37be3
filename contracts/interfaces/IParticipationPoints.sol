// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title What the badge contract and the governor need from the participation points ledger.
interface IParticipationPoints {
    /// @notice Credits `amount` points to each of `recipients` (one badge each). Only the badge contract.
    function mintBatch(address[] calldata recipients, uint256 amount) external;

    /// @notice Removes `amount` points from `account` (a revoked badge). Only the badge contract.
    function burn(address account, uint256 amount) external;

    /// @notice Moves all points of `from` to `to` (migration to self-custody). Only the badge contract.
    function migrate(address from, address to) external;

    /// @notice Records `timepoint` as a proposal snapshot, so that voting power at it stays exact. Only the
    /// snapshot registrar (the governor).
    function registerSnapshot(uint48 timepoint) external;

    /// @notice Whether `timepoint` was registered as a proposal snapshot.
    function isSnapshot(uint48 timepoint) external view returns (bool);
}
