// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155MetadataURI} from "@openzeppelin/contracts/token/ERC1155/extensions/IERC1155MetadataURI.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC1155Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IIssuingLimits} from "./interfaces/IIssuingLimits.sol";
import {IParticipationPoints} from "./interfaces/IParticipationPoints.sol";

/// @notice ERC-5633 (Composable Soulbound NFT, EIP-1155 extension).
interface IERC5633 {
    /// @notice Emitted when token `id` becomes soulbound (`bounded`) or stops being so.
    event Soulbound(uint256 indexed id, bool bounded);

    /// @notice Whether token `id` is soulbound (cannot be transferred).
    function isSoulbound(uint256 id) external view returns (bool);
}

/**
 * @title Participation badges: soulbound ERC-1155 proofs of "I took part", one token id per event.
 * @notice Organizations (the city, shops, universities, NPOs) each have admins and issuers; an issuer creates events
 * for its own organization and issues each attendee at most one badge per event, either directly in batches or
 * through an EIP-712 voucher it signed that anyone (the relayer) may submit. Each badge credits the event's
 * participation points in {ParticipationPoints}. Badges never transfer: every transfer and approval reverts with
 * {BadgeIsSoulbound}, and the ERC-5633 signal {isSoulbound} is true for every event. The one way a badge moves is
 * {migrate}: with the holder's signature, all badges, points and voting power go to a new address at once, which
 * is how a resident leaves a custodial wallet for their own. Governance (the timelock) administers the contract.
 * What an organization may issue is limited ({IIssuingLimits}): a cap on an event's points, a points allowance per
 * period, and suspension by a guardian or governance, so that one organization's key cannot mint the community's
 * voting power.
 *
 * @dev Why ownership is a bitmap and not OpenZeppelin's ERC1155 balances (measured in bench/results/gas.json,
 * explained in docs/gas.md): OpenZeppelin keeps one storage slot per (token id, holder), so every badge of a
 * returning member writes a new slot (22,100 gas). Here a holder's badges of 256 consecutive events share one
 * slot, so a returning member's next badge is a 5,000-gas update. A badge is a single bit, so the ERC-1155 balance
 * is 0 or 1, which is also the on-chain guard of "at most one badge per (event, holder)".
 */
contract ParticipationBadges is AccessControl, EIP712, Nonces, IERC1155MetadataURI, IERC5633, IIssuingLimits {
    /// @notice May create organizations (the community's operator, e.g. the backend's registrar key).
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice May suspend an organization, and nothing else (e.g. a city's multisig). Its admin role is the
    /// contract's admin (governance): a guardian grants nothing, not even its own role.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice EIP-712 type of a claim voucher signed by an issuer of the event's organization.
    bytes32 public constant CLAIM_TYPEHASH = keccak256("Claim(address recipient,uint256 eventId,uint256 deadline)");
    /// @notice EIP-712 type of a holder's consent to move everything to `to`.
    bytes32 public constant MIGRATION_TYPEHASH =
        keccak256("Migration(address from,address to,uint256 nonce,uint256 deadline)");
    /// @notice The most gas a recipient's ERC-1155 hook ({IERC1155Receiver-onERC1155Received}, or the batch hook of a
    /// migration) is given. Members choose their own addresses: a contract wallet, or an account with EIP-7702
    /// delegated code, whose hook burns whatever it gets would otherwise make a whole batch of 100 run out of gas
    /// instead of reverting with {IERC1155Errors-ERC1155InvalidReceiver}, and a relayer could not bound a batch's
    /// gas. Enough for a smart wallet's handler (a Safe's is ~10,000) and for a hook that migrates its badge onward.
    uint256 public constant RECEIVER_HOOK_GAS = 150_000;

    /// @dev One slot per event.
    struct BadgeEvent {
        uint64 organizationId;
        uint32 points;
        uint32 capacity; // 0: no limit
        uint32 issued;
        uint48 claimStart;
        uint48 claimEnd;
    }

    /// @dev One slot per organization, read once and written at most once per issue or claim.
    struct OrganizationState {
        uint64 allowance; // its own allowance, when `custom`
        uint64 issuedThisPeriod; // points issued in window `periodIndex`
        uint48 periodIndex; // window (block.timestamp / allowancePeriod) of its last counted issue, or registration
        bool custom;
        bool suspended;
    }

    // `_points`, `_defaultAllowance` and `_allowancePeriod` share one slot: `issue` and `claim` read the ledger's
    // address anyway, so the allowance settings cost them a warm read (100 gas) instead of a cold one (2,100).
    IParticipationPoints private _points;
    uint64 private _defaultAllowance;
    uint32 private _allowancePeriod;
    string private _defaultURI;
    // `_maxEventPoints` shares the slot of `_organizationCount`, which `createEvent` reads anyway.
    uint64 private _organizationCount;
    uint32 private _maxEventPoints;
    uint256 private _eventCount;
    mapping(uint64 organizationId => OrganizationState) private _organizations;
    mapping(uint256 eventId => BadgeEvent) private _events;
    mapping(uint256 eventId => string) private _eventURIs;
    mapping(address holder => mapping(uint256 bucket => uint256)) private _badges;
    mapping(address holder => mapping(uint256 bucket => uint256)) private _revoked;

    /// @notice Badges cannot be transferred or approved.
    error BadgeIsSoulbound();
    /// @notice `holder` already holds the badge of `eventId`.
    error BadgeAlreadyIssued(uint256 eventId, address holder);
    /// @notice `holder` does not hold the badge of `eventId`.
    error BadgeNotHeld(uint256 eventId, address holder);
    /// @notice The badge of `eventId` was revoked from `holder`, or `holder` migrated it away; a voucher cannot bring it
    /// back, an issuer can.
    error BadgeWasRevoked(uint256 eventId, address holder);
    /// @notice No event with this id.
    error UnknownEvent(uint256 eventId);
    /// @notice No organization with this id.
    error UnknownOrganization(uint64 organizationId);
    /// @notice `account` is not an issuer of `organizationId`.
    error NotIssuer(uint64 organizationId, address account);
    /// @notice Claims of `eventId` are accepted only from `claimStart` to `claimEnd` (inclusive).
    error ClaimWindowClosed(uint256 eventId, uint48 claimStart, uint48 claimEnd);
    /// @notice Issuing would exceed the event's capacity.
    error EventCapacityReached(uint256 eventId, uint32 capacity);
    /// @notice The claim window must end after it starts.
    error InvalidClaimWindow(uint48 claimStart, uint48 claimEnd);
    /// @notice A capacity below the number already issued.
    error CapacityBelowIssued(uint32 capacity, uint32 issued);
    /// @notice The zero address cannot hold badges.
    error InvalidRecipient(address recipient);
    /// @notice The voucher or migration signature expired at `deadline`.
    error SignatureExpired(uint256 deadline);
    /// @notice The signature is malformed (bad length, high-s, or no signer can be recovered).
    error InvalidSignature();
    /// @notice The voucher was signed by `signer`, who is not an issuer of the event's organization.
    error InvalidVoucherSigner(address signer);
    /// @notice The migration was not signed by `from`.
    error InvalidMigrationSigner(address signer, address from);
    /// @notice Migration needs a new, non-zero address.
    error InvalidMigration(address from, address to);
    /// @notice {balanceOfBatch} needs as many ids as accounts.
    error ArrayLengthMismatch(uint256 accounts, uint256 ids);
    /// @notice The points ledger is already set.
    error PointsLedgerAlreadySet();

    /// @notice Emitted when an organization is registered.
    event OrganizationCreated(uint64 indexed organizationId, address indexed admin);
    /// @notice Emitted when an event is created.
    event EventCreated(
        uint256 indexed eventId,
        uint64 indexed organizationId,
        uint32 points,
        uint48 claimStart,
        uint48 claimEnd,
        uint32 capacity
    );
    /// @notice Emitted when an event's claim window, capacity or URI changes.
    event EventUpdated(uint256 indexed eventId, uint48 claimStart, uint48 claimEnd, uint32 capacity);
    /// @notice Emitted when an issuer revokes a badge issued by mistake.
    event BadgeRevoked(uint256 indexed eventId, address indexed holder, address indexed issuer, string reason);
    /// @notice Emitted when all badges of `from` moved to `to`.
    event BadgesMigrated(address indexed from, address indexed to, uint256 badges);
    /// @notice Emitted when the points ledger is set (once).
    event PointsLedgerSet(address indexed points);
    /// @notice Emitted when the default metadata URI changes.
    event DefaultURIChanged(string uri);

    /// @notice Issuing starts without limits (no cap, no allowance, 30-day periods); the deployment sets the real
    /// ones while its deployer is still admin.
    /// @param admin Administers the contract (grants the registrar role, sets the default URI); the timelock once
    /// deployment is done.
    /// @param defaultURI ERC-1155 metadata URI template with `{id}`, for events without a URI of their own.
    constructor(address admin, string memory defaultURI) EIP712("Kyoso Participation Badges", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _defaultURI = defaultURI;
        _maxEventPoints = type(uint32).max;
        _defaultAllowance = type(uint64).max;
        _allowancePeriod = 30 days;
        _emitIssuingLimits();
    }

    // ---------------------------------------------------------------- administration

    /// @notice Sets the points ledger that badges credit. Once only; by the admin during deployment.
    function setPointsLedger(IParticipationPoints points) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_points) != address(0)) revert PointsLedgerAlreadySet();
        _points = points;
        emit PointsLedgerSet(address(points));
    }

    /// @notice Sets the metadata URI template used by events without a URI of their own. Admin only.
    function setDefaultURI(string calldata newURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _defaultURI = newURI;
        emit DefaultURIChanged(newURI);
    }

    /// @notice Registers a new organization whose `admin` manages its issuers. Registrar only. It issues within the
    /// default allowance until governance gives it one of its own.
    /// @param admin Grants and revokes the organization's issuer role.
    /// @return organizationId The new organization's id (from 1).
    function createOrganization(address admin) external onlyRole(REGISTRAR_ROLE) returns (uint64 organizationId) {
        organizationId = ++_organizationCount;
        // Its allowance slot is written here, once, so that its first issue updates a slot (2,900 gas) instead of
        // creating one (22,100).
        _organizations[organizationId].periodIndex = uint48(block.timestamp / _allowancePeriod);
        bytes32 adminRole = organizationAdminRole(organizationId);
        _setRoleAdmin(organizationIssuerRole(organizationId), adminRole);
        _grantRole(adminRole, admin);
        emit OrganizationCreated(organizationId, admin);
    }

    /// @notice The role of an organization's admins: they grant and revoke its issuer role. Its own admin role is
    /// the contract's admin (governance), which can therefore replace an organization's admins.
    function organizationAdminRole(uint64 organizationId) public pure returns (bytes32) {
        return keccak256(abi.encode("KYOSO_ORGANIZATION_ADMIN", organizationId));
    }

    /// @notice The role of an organization's issuers: they create its events, issue, sign vouchers and revoke.
    function organizationIssuerRole(uint64 organizationId) public pure returns (bytes32) {
        return keccak256(abi.encode("KYOSO_ORGANIZATION_ISSUER", organizationId));
    }

    /// @notice Whether `account` may issue for `organizationId`.
    function isIssuer(uint64 organizationId, address account) public view returns (bool) {
        return hasRole(organizationIssuerRole(organizationId), account);
    }

    /// @notice Number of organizations registered.
    function organizationCount() external view returns (uint64) {
        return _organizationCount;
    }

    // ---------------------------------------------------------------- issuing limits (IIssuingLimits)

    /// @notice Sets the most points an event may be worth when it is created; events created before keep theirs.
    /// Governance only.
    /// @param points The cap, from 1 to 2^32 - 1.
    function setMaxEventPoints(uint256 points) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (points == 0 || points > type(uint32).max) revert InvalidIssuingLimit(points);
        _maxEventPoints = uint32(points);
        _emitIssuingLimits();
    }

    /// @notice Sets the points an organization may issue per period unless it has an allowance of its own.
    /// Governance only.
    /// @param points The default allowance, up to 2^64 - 1; 0 lets only organizations with their own allowance
    /// issue points.
    function setDefaultAllowance(uint256 points) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (points > type(uint64).max) revert InvalidIssuingLimit(points);
        _defaultAllowance = uint64(points);
        _emitIssuingLimits();
    }

    /// @notice Sets the length of the allowance period. The current window then follows the new length: an
    /// organization's count starts again at zero unless its window index happens to stay the same. Governance only.
    /// @param periodSeconds From 1 hour to 366 days.
    function setAllowancePeriod(uint256 periodSeconds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (periodSeconds < 1 hours || periodSeconds > 366 days) revert InvalidIssuingLimit(periodSeconds);
        _allowancePeriod = uint32(periodSeconds);
        _emitIssuingLimits();
    }

    /// @notice Gives an organization an allowance of its own, which replaces the default allowance for it; what it
    /// issued in the current period still counts. Governance only.
    /// @param organizationId The organization.
    /// @param points Its allowance per period, up to 2^64 - 1; 0: it may issue no points.
    function setOrganizationAllowance(uint64 organizationId, uint256 points) external onlyRole(DEFAULT_ADMIN_ROLE) {
        OrganizationState storage state = _existingOrganization(organizationId);
        if (points > type(uint64).max) revert InvalidIssuingLimit(points);
        state.allowance = uint64(points);
        state.custom = true;
        emit OrganizationAllowanceChanged(organizationId, uint64(points), true);
    }

    /// @notice Puts an organization back on the default allowance. Governance only.
    /// @param organizationId The organization.
    function useDefaultAllowance(uint64 organizationId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        OrganizationState storage state = _existingOrganization(organizationId);
        state.allowance = 0;
        state.custom = false;
        emit OrganizationAllowanceChanged(organizationId, _defaultAllowance, false);
    }

    /// @notice Suspends an organization: its issuers can no longer create or update events, issue or revoke, and
    /// their vouchers no longer claim. The guardian or governance; only governance lifts it.
    /// @param organizationId The organization.
    function suspendOrganization(uint64 organizationId) external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
        _existingOrganization(organizationId).suspended = true;
        emit OrganizationSuspended(organizationId, msg.sender);
    }

    /// @notice Lifts an organization's suspension. Governance only.
    /// @param organizationId The organization.
    function resumeOrganization(uint64 organizationId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _existingOrganization(organizationId).suspended = false;
        emit OrganizationResumed(organizationId);
    }

    /// @notice The limits in force.
    /// @return maxEventPoints Most points an event may be worth when it is created.
    /// @return defaultAllowance Points an organization without an allowance of its own may issue per period.
    /// @return allowancePeriod Length of an allowance period, in seconds.
    function issuingLimits()
        external
        view
        returns (uint32 maxEventPoints, uint64 defaultAllowance, uint32 allowancePeriod)
    {
        return (_maxEventPoints, _defaultAllowance, _allowancePeriod);
    }

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
        returns (uint64 allowance, uint64 issuedThisPeriod, uint48 periodEnd, bool custom, bool suspended)
    {
        OrganizationState memory state = _existingOrganization(organizationId);
        uint256 period = _allowancePeriod;
        uint256 index = block.timestamp / period;
        allowance = state.custom ? state.allowance : _defaultAllowance;
        issuedThisPeriod = state.periodIndex == index ? state.issuedThisPeriod : 0;
        periodEnd = uint48((index + 1) * period - 1);
        custom = state.custom;
        suspended = state.suspended;
    }

    // ---------------------------------------------------------------- events

    /// @notice Creates an event of `organizationId`. Issuers of that organization only, while it is not suspended.
    /// @param organizationId The organization whose event it is.
    /// @param uri_ Metadata URI (may contain `{id}`); empty to use the default URI.
    /// @param points Participation points each badge credits; at most the cap ({issuingLimits}).
    /// @param claimStart First second at which badges can be issued or claimed.
    /// @param claimEnd Last second at which badges can be issued or claimed.
    /// @param capacity Most badges the event may have; 0 for no limit.
    /// @return eventId The new event's id, which is also its ERC-1155 token id (from 1).
    function createEvent(
        uint64 organizationId,
        string calldata uri_,
        uint32 points,
        uint48 claimStart,
        uint48 claimEnd,
        uint32 capacity
    ) external returns (uint256 eventId) {
        if (organizationId == 0 || organizationId > _organizationCount) revert UnknownOrganization(organizationId);
        _checkIssuer(organizationId);
        _checkNotSuspended(organizationId);
        uint32 maxEventPoints = _maxEventPoints;
        if (points > maxEventPoints) revert EventPointsAboveCap(points, maxEventPoints);
        if (claimEnd <= claimStart) revert InvalidClaimWindow(claimStart, claimEnd);
        eventId = ++_eventCount;
        _events[eventId] = BadgeEvent(organizationId, points, capacity, 0, claimStart, claimEnd);
        if (bytes(uri_).length != 0) _eventURIs[eventId] = uri_;
        emit EventCreated(eventId, organizationId, points, claimStart, claimEnd, capacity);
        emit Soulbound(eventId, true);
        emit URI(uri(eventId), eventId);
    }

    /// @notice Changes an event's claim window, capacity and metadata URI (its points never change). Issuers of
    /// the event's organization only, while it is not suspended.
    /// @param eventId The event.
    /// @param uri_ Metadata URI (may contain `{id}`); empty to use the default URI.
    /// @param claimStart First second at which badges can be issued or claimed.
    /// @param claimEnd Last second at which badges can be issued or claimed.
    /// @param capacity Most badges the event may have (not below those issued); 0 for no limit.
    function updateEvent(
        uint256 eventId,
        string calldata uri_,
        uint48 claimStart,
        uint48 claimEnd,
        uint32 capacity
    ) external {
        BadgeEvent storage badgeEvent = _existingEvent(eventId);
        uint64 organizationId = badgeEvent.organizationId;
        _checkIssuer(organizationId);
        _checkNotSuspended(organizationId);
        if (claimEnd <= claimStart) revert InvalidClaimWindow(claimStart, claimEnd);
        if (capacity != 0 && capacity < badgeEvent.issued) revert CapacityBelowIssued(capacity, badgeEvent.issued);
        badgeEvent.claimStart = claimStart;
        badgeEvent.claimEnd = claimEnd;
        badgeEvent.capacity = capacity;
        _eventURIs[eventId] = uri_;
        emit EventUpdated(eventId, claimStart, claimEnd, capacity);
        emit URI(uri(eventId), eventId);
    }

    /// @notice An event's settings.
    function eventInfo(uint256 eventId) external view returns (BadgeEvent memory) {
        return _existingEvent(eventId);
    }

    /// @notice Number of events created; event ids run from 1 to this.
    function eventCount() external view returns (uint256) {
        return _eventCount;
    }

    // ---------------------------------------------------------------- issuance

    /// @notice Issues the badge of `eventId` to each of `recipients` in one transaction. Issuers of the event's
    /// organization only, while it is not suspended, within the claim window, the capacity and the organization's
    /// allowance (recipients times the event's points); reverts if anyone already holds it.
    /// @param eventId The event.
    /// @param recipients Who receive its badge and points.
    function issue(uint256 eventId, address[] calldata recipients) external {
        BadgeEvent storage badgeEvent = _existingEvent(eventId);
        BadgeEvent memory settings = badgeEvent;
        _checkIssuer(settings.organizationId);
        _charge(settings.organizationId, recipients.length * settings.points);
        _checkOpen(eventId, settings, recipients.length);
        badgeEvent.issued = settings.issued + uint32(recipients.length);
        uint256 bucket = eventId >> 8;
        uint256 bit = 1 << (eventId & 0xff);
        for (uint256 i = 0; i < recipients.length; ++i) {
            _award(eventId, bucket, bit, recipients[i]);
        }
        _points.mintBatch(recipients, settings.points);
        // Receiver hooks last (checks-effects-interactions): a contract recipient sees its badge and its points
        // together, and anything it does from the hook (e.g. migrate) sees consistent books.
        for (uint256 i = 0; i < recipients.length; ++i) {
            _checkOnReceived(recipients[i], eventId);
        }
    }

    /// @notice Issues the badge of `eventId` to `recipient` with a voucher signed by an issuer of the event's
    /// organization (EIP-712 `Claim`). Anyone may submit it; it works once per (event, holder), while the
    /// organization is not suspended and within its allowance (the event's points).
    /// @param recipient Who receives the badge and its points.
    /// @param eventId The event.
    /// @param deadline Last second at which the voucher may be used.
    /// @param signature The issuer's EIP-712 signature of `Claim(recipient, eventId, deadline)`.
    function claim(address recipient, uint256 eventId, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        BadgeEvent storage badgeEvent = _existingEvent(eventId);
        BadgeEvent memory settings = badgeEvent;
        address signer = _recover(keccak256(abi.encode(CLAIM_TYPEHASH, recipient, eventId, deadline)), signature);
        if (!isIssuer(settings.organizationId, signer)) revert InvalidVoucherSigner(signer);
        _charge(settings.organizationId, settings.points);
        _checkOpen(eventId, settings, 1);
        uint256 bucket = eventId >> 8;
        uint256 bit = 1 << (eventId & 0xff);
        if (_revoked[recipient][bucket] & bit != 0) revert BadgeWasRevoked(eventId, recipient);
        badgeEvent.issued = settings.issued + 1;
        _award(eventId, bucket, bit, recipient);
        address[] memory one = new address[](1);
        one[0] = recipient;
        _points.mintBatch(one, settings.points);
        _checkOnReceived(recipient, eventId);
    }

    /// @notice Revokes a badge issued by mistake, with the reason, and removes its points. Issuers of the event's
    /// organization only, while it is not suspended. The points do not return to the organization's allowance.
    /// @param eventId The event.
    /// @param holder Who holds the badge.
    /// @param reason Why it is revoked (in the {BadgeRevoked} event).
    function revoke(uint256 eventId, address holder, string calldata reason) external {
        BadgeEvent storage badgeEvent = _existingEvent(eventId);
        uint64 organizationId = badgeEvent.organizationId;
        _checkIssuer(organizationId);
        _checkNotSuspended(organizationId);
        uint256 bucket = eventId >> 8;
        uint256 bit = 1 << (eventId & 0xff);
        uint256 held = _badges[holder][bucket];
        if (held & bit == 0) revert BadgeNotHeld(eventId, holder);
        _badges[holder][bucket] = held & ~bit;
        _revoked[holder][bucket] |= bit;
        badgeEvent.issued -= 1;
        emit TransferSingle(msg.sender, holder, address(0), eventId, 1);
        emit BadgeRevoked(eventId, holder, msg.sender, reason);
        _points.burn(holder, badgeEvent.points);
    }

    // ---------------------------------------------------------------- migration to self-custody

    /// @notice Moves every badge, point and the voting power of `from` to `to`, with `from`'s EIP-712 `Migration`
    /// signature; anyone (the relayer) may submit it. A badge `to` already holds is not duplicated: `from`'s copy and
    /// its points are burned.
    function migrateWithSignature(address from, address to, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        address signer = _recover(
            keccak256(abi.encode(MIGRATION_TYPEHASH, from, to, nonces(from), deadline)),
            signature
        );
        if (signer != from) revert InvalidMigrationSigner(signer, from);
        _useNonce(from);
        _migrate(from, to);
    }

    /// @notice Moves every badge, point and the caller's voting power to `to` (see {migrateWithSignature}).
    function migrate(address to) external {
        _migrate(msg.sender, to);
    }

    // ---------------------------------------------------------------- ERC-1155 (soulbound) and metadata

    /// @notice 1 if `account` holds the badge of event `id`, else 0.
    function balanceOf(address account, uint256 id) public view returns (uint256) {
        return (_badges[account][id >> 8] >> (id & 0xff)) & 1;
    }

    /// @notice {balanceOf} for many (account, id) pairs.
    function balanceOfBatch(address[] calldata accounts, uint256[] calldata ids) external view returns (uint256[] memory) {
        if (accounts.length != ids.length) revert ArrayLengthMismatch(accounts.length, ids.length);
        uint256[] memory balances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            balances[i] = balanceOf(accounts[i], ids[i]);
        }
        return balances;
    }

    /// @notice The event ids of every badge `account` holds.
    function badgesOf(address account) external view returns (uint256[] memory ids) {
        uint256 buckets = (_eventCount >> 8) + 1;
        uint256 count = 0;
        for (uint256 bucket = 0; bucket < buckets; ++bucket) count += _popcount(_badges[account][bucket]);
        ids = new uint256[](count);
        uint256 next = 0;
        for (uint256 bucket = 0; bucket < buckets; ++bucket) {
            uint256 bits = _badges[account][bucket];
            for (uint256 i = 0; bits != 0; ++i) {
                if (bits & 1 != 0) ids[next++] = (bucket << 8) | i;
                bits >>= 1;
            }
        }
    }

    /// @notice Always reverts: badges cannot be transferred.
    function safeTransferFrom(address, address, uint256, uint256, bytes calldata) external pure {
        revert BadgeIsSoulbound();
    }

    /// @notice Always reverts: badges cannot be transferred.
    function safeBatchTransferFrom(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
    {
        revert BadgeIsSoulbound();
    }

    /// @notice Always reverts: badges cannot be approved.
    function setApprovalForAll(address, bool) external pure {
        revert BadgeIsSoulbound();
    }

    /// @notice Always false: nobody may move anyone's badges.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @notice ERC-5633: every badge is soulbound.
    function isSoulbound(uint256 id) external view returns (bool) {
        return id != 0 && id <= _eventCount;
    }

    /// @notice ERC-1155 metadata URI of event `id`; clients replace `{id}` with the id in hex (64 digits).
    function uri(uint256 id) public view returns (string memory) {
        string memory own = _eventURIs[id];
        return bytes(own).length != 0 ? own : _defaultURI;
    }

    /// @notice The points ledger badges credit.
    function pointsLedger() external view returns (address) {
        return address(_points);
    }

    /// @notice ERC-165: ERC-1155, its metadata extension, ERC-5633, {IIssuingLimits} and AccessControl.
    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC1155).interfaceId || interfaceId == type(IERC1155MetadataURI).interfaceId
            || interfaceId == type(IERC5633).interfaceId || interfaceId == type(IIssuingLimits).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Sets `recipient`'s badge bit of `eventId`; reverts for the zero address or a badge already held.
    function _award(uint256 eventId, uint256 bucket, uint256 bit, address recipient) private {
        if (recipient == address(0)) revert InvalidRecipient(recipient);
        uint256 held = _badges[recipient][bucket];
        if (held & bit != 0) revert BadgeAlreadyIssued(eventId, recipient);
        _badges[recipient][bucket] = held | bit;
        emit TransferSingle(msg.sender, address(0), recipient, eventId, 1);
    }

    /// @dev Moves every badge of `from` to `to` (see {migrateWithSignature}), then its points and voting power.
    function _migrate(address from, address to) private {
        if (to == address(0) || to == from) revert InvalidMigration(from, to);
        uint256 buckets = (_eventCount >> 8) + 1;
        uint256[] memory moved = new uint256[](buckets);
        uint256 movedCount = 0;
        uint256 duplicatePoints = 0;
        for (uint256 bucket = 0; bucket < buckets; ++bucket) {
            uint256 bits = _badges[from][bucket];
            if (bits == 0) continue;
            uint256 existing = _badges[to][bucket];
            uint256 duplicates = bits & existing;
            if (duplicates != 0) duplicatePoints += _dropDuplicates(from, bucket, duplicates);
            moved[bucket] = bits & ~duplicates;
            movedCount += _popcount(moved[bucket]);
            _badges[to][bucket] = existing | bits;
            delete _badges[from][bucket];
            // the old address gave these badges away: a voucher made out to it must not issue them again
            _revoked[from][bucket] |= bits;
        }
        uint256[] memory ids = new uint256[](movedCount);
        uint256[] memory values = new uint256[](movedCount);
        uint256 next = 0;
        for (uint256 bucket = 0; bucket < buckets; ++bucket) {
            uint256 bits = moved[bucket];
            for (uint256 i = 0; bits != 0; ++i) {
                if (bits & 1 != 0) {
                    ids[next] = (bucket << 8) | i;
                    values[next++] = 1;
                }
                bits >>= 1;
            }
        }
        emit TransferBatch(msg.sender, from, to, ids, values);
        emit BadgesMigrated(from, to, movedCount);
        if (duplicatePoints != 0) _points.burn(from, duplicatePoints);
        _points.migrate(from, to);
        if (to.code.length != 0) {
            _callReceiver(
                to,
                abi.encodeCall(IERC1155Receiver.onERC1155BatchReceived, (msg.sender, from, ids, values, "")),
                IERC1155Receiver.onERC1155BatchReceived.selector
            );
        }
    }

    /// @dev The ERC-1155 acceptance check of a new badge of `eventId` for `to`: nothing for an account without code,
    /// else its {IERC1155Receiver-onERC1155Received} must accept (see {_callReceiver}).
    function _checkOnReceived(address to, uint256 eventId) private {
        if (to.code.length == 0) return;
        _callReceiver(
            to,
            abi.encodeCall(IERC1155Receiver.onERC1155Received, (msg.sender, address(0), eventId, 1, "")),
            IERC1155Receiver.onERC1155Received.selector
        );
    }

    /// @dev Calls a receiver hook with at most {RECEIVER_HOOK_GAS} gas; reverts as OpenZeppelin's
    /// ERC1155Utils.checkOnERC1155Received does: with {IERC1155Errors-ERC1155InvalidReceiver} when the hook answers
    /// anything but `accepted` or reverts without a reason (which is also how running out of gas ends), else with the
    /// hook's own reason. Not OpenZeppelin's helper: it forwards all the gas left (63/64 of it), so one hook could
    /// spend the gas a batch holds for all its recipients and make it run out of gas instead of reverting with a
    /// reason. An accepted answer is read from its first word only (nothing a hook returns is copied beyond it).
    function _callReceiver(address to, bytes memory payload, bytes4 accepted) private {
        bool success;
        bytes32 answer;
        uint256 answerSize;
        assembly ("memory-safe") {
            mstore(0, 0)
            success := call(RECEIVER_HOOK_GAS, to, 0, add(payload, 0x20), mload(payload), 0, 0x20)
            answer := mload(0)
            answerSize := returndatasize()
        }
        if (success) {
            if (answerSize < 0x20 || answer != bytes32(accepted)) revert IERC1155Errors.ERC1155InvalidReceiver(to);
            return;
        }
        if (answerSize == 0) revert IERC1155Errors.ERC1155InvalidReceiver(to);
        assembly ("memory-safe") {
            let reason := mload(0x40)
            returndatacopy(reason, 0, returndatasize())
            revert(reason, returndatasize())
        }
    }

    /// @dev Burns `from`'s copies of badges the destination already holds; returns their points, which the caller
    /// burns once after the loop.
    function _dropDuplicates(address from, uint256 bucket, uint256 duplicates) private returns (uint256 points) {
        for (uint256 i = 0; duplicates >> i != 0; ++i) {
            if ((duplicates >> i) & 1 != 0) {
                uint256 eventId = (bucket << 8) | i;
                BadgeEvent storage badgeEvent = _events[eventId];
                points += badgeEvent.points;
                badgeEvent.issued -= 1;
                emit TransferSingle(msg.sender, from, address(0), eventId, 1);
            }
        }
    }

    /// @dev Counts `requested` points against the organization's allowance of the current window, after checking that
    /// it is not suspended: one read of its slot, and one write when points are counted (a badge worth 0 points
    /// counts nothing). The count starts again at zero when the window index (block.timestamp / allowancePeriod)
    /// differs from the one of its last issue. `requested` is at most recipients x 2^32, so it cannot overflow, and
    /// the new count is at most the allowance, so it fits in 64 bits.
    function _charge(uint64 organizationId, uint256 requested) private {
        OrganizationState storage stored = _organizations[organizationId];
        OrganizationState memory state = stored;
        if (state.suspended) revert OrganizationIsSuspended(organizationId);
        if (requested == 0) return;
        uint48 index = uint48(block.timestamp / _allowancePeriod);
        uint256 issued = state.periodIndex == index ? state.issuedThisPeriod : 0;
        uint256 allowance = state.custom ? state.allowance : _defaultAllowance;
        // governance may have lowered the allowance below what was issued in this window
        uint256 remaining = allowance > issued ? allowance - issued : 0;
        if (requested > remaining) revert AllowanceExceeded(organizationId, requested, remaining);
        stored.issuedThisPeriod = uint64(issued + requested);
        stored.periodIndex = index;
    }

    /// @dev Reverts if the organization is suspended.
    function _checkNotSuspended(uint64 organizationId) private view {
        if (_organizations[organizationId].suspended) revert OrganizationIsSuspended(organizationId);
    }

    /// @dev The state of a registered organization; reverts for an unknown id.
    function _existingOrganization(uint64 organizationId) private view returns (OrganizationState storage) {
        if (organizationId == 0 || organizationId > _organizationCount) revert UnknownOrganization(organizationId);
        return _organizations[organizationId];
    }

    /// @dev Emits the limits in force.
    function _emitIssuingLimits() private {
        emit IssuingLimitsChanged(_maxEventPoints, _defaultAllowance, _allowancePeriod);
    }

    /// @dev The settings of an existing event; reverts for an unknown id.
    function _existingEvent(uint256 eventId) private view returns (BadgeEvent storage badgeEvent) {
        badgeEvent = _events[eventId];
        if (badgeEvent.organizationId == 0) revert UnknownEvent(eventId);
    }

    /// @dev Reverts unless the caller is an issuer of the organization.
    function _checkIssuer(uint64 organizationId) private view {
        if (!isIssuer(organizationId, msg.sender)) revert NotIssuer(organizationId, msg.sender);
    }

    /// @dev Reverts outside the event's claim window, or when `count` more badges would pass its capacity.
    function _checkOpen(uint256 eventId, BadgeEvent memory settings, uint256 count) private view {
        if (block.timestamp < settings.claimStart || block.timestamp > settings.claimEnd) {
            revert ClaimWindowClosed(eventId, settings.claimStart, settings.claimEnd);
        }
        if (settings.capacity != 0 && settings.issued + count > settings.capacity) {
            revert EventCapacityReached(eventId, settings.capacity);
        }
    }

    /// @dev The signer of an EIP-712 message of this contract; reverts on a malformed signature.
    function _recover(bytes32 structHash, bytes calldata signature) private view returns (address signer) {
        ECDSA.RecoverError error;
        (signer, error, ) = ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), signature);
        if (error != ECDSA.RecoverError.NoError) revert InvalidSignature();
    }

    /// @dev The number of set bits.
    function _popcount(uint256 bits) private pure returns (uint256 count) {
        while (bits != 0) {
            bits &= bits - 1;
            ++count;
        }
    }
}
