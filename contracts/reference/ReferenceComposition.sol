// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title Benchmark reference only (never deployed to a network): the obvious composition of OpenZeppelin parts.
 * @notice Badges are OpenZeppelin ERC1155 `_mint`; points are ERC20Votes `_mint` with self-delegation for holders who
 * have not delegated, so that they have voting power without a delegate transaction. bench/gas.py measures it in the
 * same run as the Kyoso contracts. No access control: it exists to be measured.
 */
contract ReferenceBadges is ERC1155 {
    ReferencePoints public immutable points;

    constructor() ERC1155("https://example.invalid/{id}.json") {
        points = new ReferencePoints();
    }

    /// @notice Mints the badge `id` to each recipient and credits `amount` points with voting power.
    function issue(uint256 id, address[] calldata recipients, uint256 amount) external {
        for (uint256 i = 0; i < recipients.length; ++i) {
            _mint(recipients[i], id, 1, "");
        }
        points.mintBatch(recipients, amount);
    }
}

/// @title Benchmark reference only: OpenZeppelin ERC20Votes points with self-delegation on first receipt.
contract ReferencePoints is ERC20, ERC20Permit, ERC20Votes {
    address private immutable _minter;

    constructor() ERC20("Reference Points", "REF") ERC20Permit("Reference Points") {
        _minter = msg.sender;
    }

    /// @notice Credits `amount` to each recipient, self-delegating those who never delegated.
    function mintBatch(address[] calldata recipients, uint256 amount) external {
        require(msg.sender == _minter, "only badges");
        for (uint256 i = 0; i < recipients.length; ++i) {
            address to = recipients[i];
            if (delegates(to) == address(0)) _delegate(to, to);
            _mint(to, amount);
        }
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
