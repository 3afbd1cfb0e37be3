// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Test helper only: a wallet a member may sign in with (EIP-1271, like OwnerSignedWallet) whose ERC-1155 hooks
/// refuse badges, burn all the gas they are given, accept, answer wrongly, or spend nearly all their gas and accept
/// (the most an honest hook can cost), as its mode says; the mode can be flipped at any time
/// (e.g. between the relayer's estimate and the block). As the code behind an EIP-7702 delegation its storage is the
/// delegating account's, which starts at mode `Refuse`.
contract HostileReceiver is IERC1155Receiver, IERC1271 {
    /// @notice What the hooks do.
    enum Mode {
        Refuse,
        BurnGas,
        Accept,
        WrongAnswer,
        SpendAndAccept
    }

    /// @notice The hook refuses the badge (the reason a hostile wallet gives).
    /// @param eventId The badge's event.
    error NoBadgesWanted(uint256 eventId);

    address public immutable owner;
    Mode public mode;
    /// @notice `gasleft()` when the last accepted hook started.
    uint256 public gasSeenInHook;

    constructor(address owner_, Mode mode_) {
        owner = owner_;
        mode = mode_;
    }

    /// @notice Changes what the hooks do from now on. Anyone (a test helper).
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Refuses, burns every unit of gas, accepts (recording the gas it was given), answers a wrong value, or
    /// spends all but what recording needs and accepts.
    function onERC1155Received(address, address, uint256 id, uint256, bytes calldata) external returns (bytes4) {
        uint256 gas = gasleft();
        _act(id);
        gasSeenInHook = gas;
        return IERC1155Receiver.onERC1155Received.selector;
    }

    /// @notice The same for migrations to this wallet.
    function onERC1155BatchReceived(address, address, uint256[] calldata ids, uint256[] calldata, bytes calldata)
        external
        returns (bytes4)
    {
        uint256 gas = gasleft();
        _act(ids.length == 0 ? 0 : ids[0]);
        gasSeenInHook = gas;
        return IERC1155Receiver.onERC1155BatchReceived.selector;
    }

    /// @notice The EIP-1271 magic value when `signature` is the owner's signature of `hash`, else 0xffffffff.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(hash, signature);
        if (failure == ECDSA.RecoverError.NoError && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }

    /// @notice ERC-165.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    /// @dev Does what the mode says; returns only when the hook is to accept.
    function _act(uint256 eventId) private view {
        Mode current = mode;
        if (current == Mode.Refuse) revert NoBadgesWanted(eventId);
        if (current == Mode.BurnGas) {
            while (true) {}
        }
        if (current == Mode.SpendAndAccept) {
            while (gasleft() > 30_000) {}
        }
        if (current == Mode.WrongAnswer) {
            assembly ("memory-safe") {
                mstore(0, 0xbadbadbad)
                return(0, 0x20)
            }
        }
    }
}
