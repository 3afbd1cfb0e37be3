// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title What an organization may issue: a cap on an event's points, a points allowance per period, and suspension.
 * @notice Governance (the timelock) sets the limits and each organization's own allowance, and alone lifts a
 * suspension; a guardian (e.g. a city's multisig) may only suspend an organization. The allowance is counted in
 * points: issuing the badge of an event worth `p` points to `n` recipients uses `n * p` of the issuing
 * organization's allowance of the current period. Periods are fixed windows of `allowancePeriod` seconds: the
 * window of a timestamp `t` is `t / allowancePeriod`, and an organization's count starts again at zero in each new
 * window. Revoking a badge does not give its points back to the allowance.
 */
interface IIssuingLimits {
    /// @notice The limits changed (also emitted once by the constructor).
    /// @param maxEventPoints Most points an event may be worth when it is created.
    /// @param defaultAllowance Points an organization without an allowance of its own may issue per period.
    /// @param allowancePeriod Length of an allowance period, in seconds.
    event IssuingLimitsChanged(uint32 maxEventPoints, uint64 defaultAllowance, uint32 allowancePeriod);

    /// @notice An organization got an allowance of its own, or went back to the default allowance.
    /// @param organizationId The organization.
    /// @param allowance Its own allowance when `custom`; otherwise the default allowance at the time of the change.
    /// @param custom Whether the organization now has an allowance of its own.
    event OrganizationAllowanceChanged(uint64 indexed organizationId, uint64 allowance, bool custom);

    /// @notice An organization was suspended: its issuers can no longer create or update events, issue or revoke,
    /// and vouchers signed by them no longer claim.
    /// @param organizationId The organization.
    /// @param by The guardian or the governance account that suspended it.
    event OrganizationSuspended(uint64 indexed organizationId, address indexed by);

    /// @notice Governance lifted an organization's suspension.
    /// @param organizationId The organization.
    event OrganizationResumed(uint64 indexed organizationId);

    /// @notice An event may not be worth more points than the cap.
    /// @param points The points asked for.
    /// @param maxEventPoints The cap.
    error EventPointsAboveCap(uint32 points, uint32 maxEventPoints);

    /// @notice Issuing would take the organization beyond its allowance of the current period.
    /// @param organizationId The issuing organization.
    /// @param requested Points the issue or claim would credit (recipients times the event's points).
    /// @param remaining Points the organization may still issue in the current period.
    error AllowanceExceeded(uint64 organizationId, uint256 requested, uint256 remaining);

    /// @notice The organization is suspended.
    /// @param organizationId The organization.
    error OrganizationIsSuspended(uint64 organizationId);

    /// @notice A limit outside its bounds: a cap from 1 to 2^32 - 1, an allowance up to 2^64 - 1, a period from
    /// 1 hour to 366 days.
    /// @param value The value given.
    error InvalidIssuingLimit(uint256 value);

    /// @notice Sets the most points an event may be worth when it is created (events created before keep theirs).
    /// Governance only.
    /// @param points The cap, from 1 to 2^32 - 1.
    function setMaxEventPoints(uint256 points) external;

    /// @notice Sets the points an organization may issue per period unless it has an allowance of its own.
    /// Governance only.
    /// @param points The default allowance, up to 2^64 - 1; 0 lets only organizations with their own allowance
    /// issue points.
    function setDefaultAllowance(uint256 points) external;

    /// @notice Sets the length of the allowance period. Governance only.
    /// @param periodSeconds From 1 hour to 366 days.
    function setAllowancePeriod(uint256 periodSeconds) external;

    /// @notice Gives an organization an allowance of its own, which replaces the default allowance for it.
    /// Governance only.
    /// @param organizationId The organization.
    /// @param points Its allowance per period, up to 2^64 - 1; 0: it may issue no points.
    function setOrganizationAllowance(uint64 organizationId, uint256 points) external;

    /// @notice Puts an organization back on the default allowance. Governance only.
    /// @param organizationId The organization.
    function useDefaultAllowance(uint64 organizationId) external;

    /// @notice Suspends an organization (see {OrganizationSuspended}). The guardian or governance.
    /// @param organizationId The organization.
    function suspendOrganization(uint64 organizationId) external;

    /// @notice Lifts an organization's suspension. Governance only.
    /// @param organizationId The organization.
    function resumeOrganization(uint64 organizationId) external;

    /// @notice The limits in force.
    /// @return maxEventPoints Most points an event may be worth when it is created.
    /// @return defaultAllowance Points an organization without an allowance of its own may issue per period.
    /// @return allowancePeriod Length of an allowance period, in seconds.
    function issuingLimits()
        external
        view
        returns (uint32 maxEventPoints, uint64 defaultAllowance, uint32 allowancePeriod);

    /// @notice An organization's allowance and what it issued in the current period.
    /// @param organizationId The organization.
    /// @return allowance Points it may issue per period (its own, or the default).
    /// @return issuedThisPeriod Points it issued in the current period.
    /// @return periodEnd The last second of the current period.
    /// @return custom Whether `allowance` is its own.
    /// @return suspended Whether it is suspended.
    function organizationAllowance(uint64 organizationId)
        external
        view
        returns (uint64 allowance, uint64 issuedThisPeriod, uint48 periodEnd, bool custom, bool suspended);
}
