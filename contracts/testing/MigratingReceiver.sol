// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ParticipationBadges} from "../ParticipationBadges.sol";

/// @title Test helper only: an ERC-1155 receiver (a smart wallet) that, from inside the receiver hook, records its
/// points and optionally migrates everything onward, to check that the books are consistent when hooks run.
contract MigratingReceiver is IERC1155Receiver {
    IERC20 private immutable _points;
    address public migrateTo;
    uint256 public pointsSeenInHook;

    constructor(IERC20 points) {
        _points = points;
    }

    /// @notice Where to migrate from inside the next hook (zero: do not migrate).
    function setMigrateTo(address to) external {
        migrateTo = to;
    }

    /// @notice Records the points held at hook time; migrates if asked to.
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external returns (bytes4) {
        pointsSeenInHook = _points.balanceOf(address(this));
        if (migrateTo != address(0)) ParticipationBadges(msg.sender).migrate(migrateTo);
        return IERC1155Receiver.onERC1155Received.selector;
    }

    /// @notice Accepts batches (migrations to this wallet).
    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return IERC1155Receiver.onERC1155BatchReceived.selector;
    }

    /// @notice ERC-165.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }
}
