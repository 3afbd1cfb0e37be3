// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorNoncesKeyed} from "@openzeppelin/contracts/governance/extensions/GovernorNoncesKeyed.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {NoncesKeyed} from "@openzeppelin/contracts/utils/NoncesKeyed.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";

import {IParticipationPoints} from "./interfaces/IParticipationPoints.sol";

/**
 * @title The community's governor: OpenZeppelin's Governor with Kyoso's settings.
 * @notice Members propose and vote with their participation points; a passed proposal is queued in and executed
 * by the timelock that holds the treasury. Settings (voting delay and period in seconds, proposal threshold in
 * points) and the quorum (a fraction of all points at the snapshot) can be changed by governance. Votes can be
 * cast by signature with keyed nonces ({GovernorNoncesKeyed}: one nonce sequence per proposal), so that a relayer
 * can send one voter's votes on different proposals in parallel. Each proposal's snapshot is registered with the
 * points ledger, which keeps voting power at registered snapshots exact. {Multicall} lets the relayer send many
 * members' signed votes in one transaction; each inner call is authorised by its own signature, not by the sender,
 * and no ERC-2771 forwarder is trusted, so the known ERC-2771 + Multicall sender-spoofing flaw does not apply.
 * @dev The counting mode is fixed at deployment by the contract deployed: this one counts one point, one vote;
 * {KyosoQuadraticGovernor} counts the square root of each voter's points.
 */
contract KyosoGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorNoncesKeyed,
    Multicall
{
    /// @param points The participation points ledger (voting power).
    /// @param timelock The timelock holding the treasury.
    /// @param votingDelay Seconds from proposing to the snapshot / start of voting.
    /// @param votingPeriod Seconds of voting.
    /// @param proposalThreshold Points needed to propose.
    /// @param quorumPercent Percent of all points (at the snapshot) that must vote for or abstain.
    constructor(
        IVotes points,
        TimelockController timelock,
        uint48 votingDelay,
        uint32 votingPeriod,
        uint256 proposalThreshold,
        uint256 quorumPercent
    )
        Governor("Kyoso Governor")
        GovernorSettings(votingDelay, votingPeriod, proposalThreshold)
        GovernorVotes(points)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock)
    {}

    /// @inheritdoc Governor
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @inheritdoc Governor
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc Governor
    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    /// @inheritdoc Governor
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @dev Voting weight comes from the registered proposal snapshot, which the points ledger answers exactly. The
    /// one other timepoint the Governor asks for is `clock() - 1`, for the proposal threshold in {propose}; the
    /// ledger records no history for it (see ParticipationPoints), so the threshold is checked against current
    /// voting power instead. OpenZeppelin looks one step back to stop tokens borrowed within a block from meeting the
    /// threshold; points cannot be borrowed, bought or transferred, and delegated points are real points, so the
    /// current value carries no such risk.
    function _getVotes(address account, uint256 timepoint, bytes memory params)
        internal
        view
        override(Governor, GovernorVotes)
        returns (uint256)
    {
        if (timepoint + 1 == clock() && !IParticipationPoints(address(token())).isSnapshot(SafeCast.toUint48(timepoint))) {
            return token().getVotes(account);
        }
        return super._getVotes(account, timepoint, params);
    }

    /// @dev Registers the new proposal's snapshot with the points ledger, so voting power at it stays exact.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        IParticipationPoints(address(token())).registerSnapshot(SafeCast.toUint48(proposalSnapshot(proposalId)));
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    function _useCheckedNonce(address owner, uint256 nonce) internal override(Nonces, GovernorNoncesKeyed) {
        super._useCheckedNonce(owner, nonce);
    }

    function _validateVoteSig(uint256 proposalId, uint8 support, address voter, bytes memory signature)
        internal
        override(Governor, GovernorNoncesKeyed)
        returns (bool)
    {
        return super._validateVoteSig(proposalId, support, voter, signature);
    }

    function _validateExtendedVoteSig(
        uint256 proposalId,
        uint8 support,
        address voter,
        string memory reason,
        bytes memory params,
        bytes memory signature
    ) internal override(Governor, GovernorNoncesKeyed) returns (bool) {
        return super._validateExtendedVoteSig(proposalId, support, voter, reason, params, signature);
    }
}

/**
 * @title The community's governor with quadratic counting: a voter's weight is the square root of their points.
 * @notice Quadratic voting is only meaningful when weight cannot be bought or split across fake accounts; here
 * points are soulbound and earned by taking part, which is what makes it honest. The quorum still counts points
 * (for and abstain, before the square root), so it keeps its meaning as "a fraction of all points took part".
 */
contract KyosoQuadraticGovernor is KyosoGovernor {
    mapping(uint256 proposalId => uint256) private _quorumPoints;

    /// @param points The participation points ledger (voting power).
    /// @param timelock The timelock holding the treasury.
    /// @param votingDelay Seconds from proposing to the snapshot / start of voting.
    /// @param votingPeriod Seconds of voting.
    /// @param proposalThreshold Points needed to propose.
    /// @param quorumPercent Percent of all points (at the snapshot) that must vote for or abstain.
    constructor(
        IVotes points,
        TimelockController timelock,
        uint48 votingDelay,
        uint32 votingPeriod,
        uint256 proposalThreshold,
        uint256 quorumPercent
    ) KyosoGovernor(points, timelock, votingDelay, votingPeriod, proposalThreshold, quorumPercent) {}

    /// @notice Bravo-style support; the quorum counts points for and abstain; weights are square roots of points.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure override(IGovernor, GovernorCountingSimple) returns (string memory) {
        return "support=bravo&quorum=for,abstain&weight=sqrt";
    }

    /// @notice Points (not square roots) that voted for or abstained on `proposalId`, which the quorum counts.
    function quorumPoints(uint256 proposalId) external view returns (uint256) {
        return _quorumPoints[proposalId];
    }

    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        override(Governor, GovernorCountingSimple)
        returns (uint256)
    {
        if (support != uint8(VoteType.Against)) _quorumPoints[proposalId] += totalWeight;
        return super._countVote(proposalId, account, support, Math.sqrt(totalWeight), params);
    }

    function _quorumReached(uint256 proposalId)
        internal
        view
        override(Governor, GovernorCountingSimple)
        returns (bool)
    {
        return quorum(proposalSnapshot(proposalId)) <= _quorumPoints[proposalId];
    }
}
