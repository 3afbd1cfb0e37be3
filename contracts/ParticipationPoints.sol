// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

import {IParticipationPoints} from "./interfaces/IParticipationPoints.sol";

/**
 * @title Participation points: the community's voting power, earned by taking part.
 * @notice An ERC-20 (metadata and events) with IVotes / ERC-5805 on a timestamp clock (ERC-6372), minted and burned
 * only by the badge contract. Points cannot be transferred or approved; they move only by migration to
 * self-custody. Every holder has voting power without sending a delegate transaction (votes follow one's own
 * points until one delegates), and a holder may delegate to another member with {delegate} or {delegateBySig}.
 *
 * @dev Why this is not OpenZeppelin's ERC20Votes (measured in bench/results/gas.json, explained in docs/gas.md):
 * ERC20Votes stores the balance, the delegate and a new voting checkpoint in separate slots and pushes a
 * checkpoint on every change in a new block, which costs ~130k gas for a first badge and ~75k for each later one.
 * Here one packed slot per account holds balance, current votes and the time of the last change, and a voting
 * history entry is written only when it can ever be asked for: the governor registers each proposal snapshot
 * (see {registerSnapshot}), and an account's previous value is kept only when a registered snapshot falls at or
 * after that value's time. Voting power is therefore exact at every registered snapshot and at any timepoint since
 * the account's last change; a query for another historical timepoint reverts with {VotesNotRecorded} instead of
 * returning a guess. The same holds for the total supply.
 */
contract ParticipationPoints is IERC20Metadata, IERC5805, IParticipationPoints, EIP712, Nonces, Ownable {
    using Checkpoints for Checkpoints.Trace208;

    /// @dev One slot per account: balance, votes delegated to it (including its own), and when votes last changed.
    struct AccountState {
        uint96 balance;
        uint104 votes;
        uint48 votesSince;
        bool hasDelegate; // an explicit delegate is stored in `_delegatees`; otherwise votes follow own points
    }

    struct SupplyState {
        uint208 total;
        uint48 since;
    }

    bytes32 private constant DELEGATION_TYPEHASH =
        keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)");

    address private immutable _minter;
    string private _name;
    string private _symbol;
    address private _snapshotRegistrar;
    uint48 private _latestSnapshot;

    mapping(address account => AccountState) private _accounts;
    mapping(address account => address) private _delegatees;
    mapping(address account => Checkpoints.Trace208) private _votesHistory;
    mapping(uint48 timepoint => bool) private _isSnapshot;
    SupplyState private _supply;
    Checkpoints.Trace208 private _supplyHistory;

    /// @notice Points cannot be transferred or approved.
    error PointsNotTransferable();
    /// @notice Only the badge contract may mint, burn or migrate points.
    error OnlyBadgeContract(address caller);
    /// @notice Only the snapshot registrar (the governor) may register snapshots.
    error OnlySnapshotRegistrar(address caller);
    /// @notice Voting power at `timepoint` was not recorded: it is neither a registered snapshot nor later than the
    /// account's last change.
    error VotesNotRecorded(uint256 timepoint);
    /// @notice `timepoint` is not in the past yet.
    error ERC5805FutureLookup(uint256 timepoint, uint48 clock);
    /// @notice Migration needs two different, non-zero addresses.
    error InvalidMigration(address from, address to);
    /// @notice The badge contract (the minter) cannot be the zero address.
    error InvalidMinter();
    /// @notice The snapshot registrar cannot be the zero address: every proposal would revert, for good.
    error InvalidSnapshotRegistrar();
    /// @notice The new balance of `account` does not fit the ledger.
    error BalanceOverflow(address account);

    /// @notice Emitted when the snapshot registrar changes.
    event SnapshotRegistrarChanged(address indexed previousRegistrar, address indexed newRegistrar);
    /// @notice Emitted when a proposal snapshot is registered.
    event SnapshotRegistered(uint48 indexed timepoint);
    /// @notice Emitted when all points of `from` moved to `to`.
    event PointsMigrated(address indexed from, address indexed to, uint256 amount);

    modifier onlyMinter() {
        if (msg.sender != _minter) revert OnlyBadgeContract(msg.sender);
        _;
    }

    /// @param name_ ERC-20 name, also the EIP-712 domain name.
    /// @param symbol_ ERC-20 symbol.
    /// @param badges The badge contract, the only one that mints, burns and migrates.
    /// @param initialOwner Sets the snapshot registrar; the timelock once deployment is done.
    constructor(
        string memory name_,
        string memory symbol_,
        address badges,
        address initialOwner
    ) EIP712(name_, "1") Ownable(initialOwner) {
        if (badges == address(0)) revert InvalidMinter();
        _name = name_;
        _symbol = symbol_;
        _minter = badges;
    }

    // ---------------------------------------------------------------- ERC-20 (read-only, non-transferable)

    /// @notice The ERC-20 name.
    function name() external view returns (string memory) {
        return _name;
    }

    /// @notice The ERC-20 symbol.
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @notice Points are whole numbers.
    function decimals() external pure returns (uint8) {
        return 0;
    }

    /// @notice All points in existence.
    function totalSupply() external view returns (uint256) {
        return _supply.total;
    }

    /// @notice Points held by `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @notice Always 0: points cannot be approved.
    function allowance(address, address) external pure returns (uint256) {
        return 0;
    }

    /// @notice Always reverts: points cannot be transferred.
    function transfer(address, uint256) external pure returns (bool) {
        revert PointsNotTransferable();
    }

    /// @notice Always reverts: points cannot be approved.
    function approve(address, uint256) external pure returns (bool) {
        revert PointsNotTransferable();
    }

    /// @notice Always reverts: points cannot be transferred.
    function transferFrom(address, address, uint256) external pure returns (bool) {
        revert PointsNotTransferable();
    }

    /// @notice The badge contract, the only minter.
    function minter() external view returns (address) {
        return _minter;
    }

    // ---------------------------------------------------------------- issuance (badge contract only)

    /// @inheritdoc IParticipationPoints
    function mintBatch(address[] calldata recipients, uint256 amount) external onlyMinter {
        if (amount == 0) return;
        uint256 count = recipients.length;
        for (uint256 i = 0; i < count; ++i) {
            address to = recipients[i];
            AccountState storage state = _accounts[to];
            uint256 balance = state.balance + amount;
            if (balance > type(uint96).max) revert BalanceOverflow(to);
            state.balance = uint96(balance);
            emit Transfer(address(0), to, amount);
            _addVotes(_delegateOf(to, state), amount);
        }
        _changeSupply(_supply.total + amount * count);
    }

    /// @inheritdoc IParticipationPoints
    function burn(address account, uint256 amount) external onlyMinter {
        AccountState storage state = _accounts[account];
        state.balance -= SafeCast.toUint96(amount);
        emit Transfer(account, address(0), amount);
        _subtractVotes(_delegateOf(account, state), amount);
        _changeSupply(_supply.total - amount);
    }

    /// @inheritdoc IParticipationPoints
    function migrate(address from, address to) external onlyMinter {
        if (from == to || to == address(0) || from == address(0)) revert InvalidMigration(from, to);
        AccountState storage source = _accounts[from];
        AccountState storage target = _accounts[to];
        uint256 amount = source.balance;
        address fromDelegate = _delegateOf(from, source);
        if (source.hasDelegate) {
            // The old address is abandoned: its own delegation choice goes with it, the new one decides anew.
            delete _delegatees[from];
            source.hasDelegate = false;
        }
        source.balance = 0;
        uint256 balance = target.balance + amount;
        if (balance > type(uint96).max) revert BalanceOverflow(to);
        target.balance = uint96(balance);
        emit Transfer(from, to, amount);
        emit PointsMigrated(from, to, amount);
        _moveVotes(fromDelegate, _delegateOf(to, target), amount);
    }

    // ---------------------------------------------------------------- snapshots (governor only)

    /// @inheritdoc IParticipationPoints
    function registerSnapshot(uint48 timepoint) external {
        if (msg.sender != _snapshotRegistrar) revert OnlySnapshotRegistrar(msg.sender);
        _isSnapshot[timepoint] = true;
        if (timepoint > _latestSnapshot) _latestSnapshot = timepoint;
        emit SnapshotRegistered(timepoint);
    }

    /// @notice Sets the contract allowed to register proposal snapshots (the governor). Only the owner.
    function setSnapshotRegistrar(address registrar) external onlyOwner {
        if (registrar == address(0)) revert InvalidSnapshotRegistrar();
        emit SnapshotRegistrarChanged(_snapshotRegistrar, registrar);
        _snapshotRegistrar = registrar;
    }

    /// @notice The contract allowed to register proposal snapshots.
    function snapshotRegistrar() external view returns (address) {
        return _snapshotRegistrar;
    }

    /// @inheritdoc IParticipationPoints
    function isSnapshot(uint48 timepoint) external view returns (bool) {
        return _isSnapshot[timepoint];
    }

    /// @notice The latest registered proposal snapshot (0 if none).
    function latestSnapshot() external view returns (uint48) {
        return _latestSnapshot;
    }

    // ---------------------------------------------------------------- IVotes / ERC-6372

    /// @notice The clock is the block timestamp, which stays meaningful on L2s with irregular blocks.
    function clock() public view returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Current voting power of `account`: its own points unless delegated away, plus points delegated to it.
    function getVotes(address account) external view returns (uint256) {
        return _accounts[account].votes;
    }

    /// @notice Voting power of `account` at the end of `timepoint`; exact at registered snapshots and at any
    /// timepoint since the account's last change, otherwise reverts with {VotesNotRecorded}.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        uint48 key = _pastTimepoint(timepoint);
        AccountState storage state = _accounts[account];
        if (key >= state.votesSince) return state.votes;
        if (!_isSnapshot[key]) revert VotesNotRecorded(timepoint);
        return _votesHistory[account].upperLookupRecent(key);
    }

    /// @notice Total points at the end of `timepoint`, with the same guarantee as {getPastVotes}.
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        uint48 key = _pastTimepoint(timepoint);
        if (key >= _supply.since) return _supply.total;
        if (!_isSnapshot[key]) revert VotesNotRecorded(timepoint);
        return _supplyHistory.upperLookupRecent(key);
    }

    /// @notice Whom `account`'s points vote for: itself unless it delegated.
    function delegates(address account) external view returns (address) {
        return _delegateOf(account, _accounts[account]);
    }

    /// @notice Gives the caller's voting power to `delegatee`; the caller itself (or address 0) undelegates.
    function delegate(address delegatee) external {
        _delegate(msg.sender, delegatee);
    }

    /// @notice {delegate} with an EIP-712 `Delegation` signature, so that a relayer can pay the gas.
    function delegateBySig(address delegatee, uint256 nonce, uint256 expiry, uint8 v, bytes32 r, bytes32 s) external {
        if (block.timestamp > expiry) revert VotesExpiredSignature(expiry);
        address signer = ECDSA.recover(
            _hashTypedDataV4(keccak256(abi.encode(DELEGATION_TYPEHASH, delegatee, nonce, expiry))),
            v,
            r,
            s
        );
        _useCheckedNonce(signer, nonce);
        _delegate(signer, delegatee);
    }

    // ---------------------------------------------------------------- internals

    function _delegateOf(address account, AccountState storage state) private view returns (address) {
        return state.hasDelegate ? _delegatees[account] : account;
    }

    function _delegate(address account, address delegatee) private {
        AccountState storage state = _accounts[account];
        address previous = _delegateOf(account, state);
        address next = delegatee == address(0) ? account : delegatee;
        if (next == account) {
            if (state.hasDelegate) {
                delete _delegatees[account];
                state.hasDelegate = false;
            }
        } else {
            _delegatees[account] = next;
            state.hasDelegate = true;
        }
        emit DelegateChanged(account, previous, next);
        _moveVotes(previous, next, state.balance);
    }

    function _moveVotes(address from, address to, uint256 amount) private {
        if (from == to || amount == 0) return;
        _subtractVotes(from, amount);
        _addVotes(to, amount);
    }

    function _addVotes(address account, uint256 amount) private {
        AccountState storage state = _accounts[account];
        _writeVotes(account, state, state.votes + amount);
    }

    function _subtractVotes(address account, uint256 amount) private {
        AccountState storage state = _accounts[account];
        _writeVotes(account, state, state.votes - amount);
    }

    /// @dev Keeps the previous value in the history only if a registered snapshot falls at or after its time: no
    /// other past value can ever be asked for without reverting. A value of 0 with no history needs no entry,
    /// because an empty history already answers 0.
    function _writeVotes(address account, AccountState storage state, uint256 newVotes) private {
        uint256 oldVotes = state.votes;
        uint48 since = state.votesSince;
        uint48 now_ = clock();
        if (since != now_) {
            if (_latestSnapshot >= since && (oldVotes != 0 || _votesHistory[account].length() != 0)) {
                _votesHistory[account].push(since, uint208(oldVotes));
            }
            state.votesSince = now_;
        }
        state.votes = SafeCast.toUint104(newVotes);
        emit DelegateVotesChanged(account, oldVotes, newVotes);
    }

    function _changeSupply(uint256 newTotal) private {
        SupplyState memory supply = _supply;
        uint48 now_ = clock();
        if (supply.since != now_) {
            if (_latestSnapshot >= supply.since && (supply.total != 0 || _supplyHistory.length() != 0)) {
                _supplyHistory.push(supply.since, supply.total);
            }
        }
        _supply = SupplyState(SafeCast.toUint208(newTotal), now_);
    }

    function _pastTimepoint(uint256 timepoint) private view returns (uint48) {
        uint48 now_ = clock();
        if (timepoint >= now_) revert ERC5805FutureLookup(timepoint, now_);
        return uint48(timepoint);
    }
}
