// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title An ERC-20 for tests and the local demo only: anyone may mint. Never deployed to a public network.
contract CommunityTestToken is ERC20 {
    constructor() ERC20("Kanazawa Community Test Yen", "tJPY") {}

    /// @notice Mints `amount` to `to` (test helper).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
