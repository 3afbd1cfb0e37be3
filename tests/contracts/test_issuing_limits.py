"""What an organization may issue (issue #17): the cap on an event's points, the points allowance per period, custom
and default allowances, suspension by the guardian or governance, and who may change each (IIssuingLimits).

Governance is the timelock: these tests send its calls from the timelock's own address (impersonated on Anvil),
which is exactly what an executed proposal does; test_guardian.py goes through a real proposal."""

from __future__ import annotations

import brownie
import pytest
from brownie import ParticipationBadges, accounts, chain, web3

from tests.contracts.conftest import DAY, POINTS_PER_BADGE, now
from tests.contracts.test_badges_issuance import voucher
from tests.helpers.reverts import custom_error

NO_CAP, NO_ALLOWANCE, THIRTY_DAYS = 2**32 - 1, 2**64 - 1, 30 * DAY
HOUR = 3600
DEFAULT_ADMIN_ROLE = bytes(32)


def addresses(n: int, start: int = 0) -> list[str]:
    """Plain addresses without code (not precompiles), for batches larger than the `members` fixture."""
    return [web3.to_checksum_address(f"0x{0xCAFE0000 + start + i:040x}") for i in range(n)]


def unauthorized(account, role=DEFAULT_ADMIN_ROLE) -> str:
    """OpenZeppelin's AccessControlUnauthorizedAccount(account, neededRole), as brownie reports it (the role as
    bytes)."""
    role = bytes(role) if isinstance(role, bytes) else bytes.fromhex(str(role).removeprefix("0x"))
    return custom_error("AccessControlUnauthorizedAccount", account, role)


@pytest.fixture(scope="module")
def governance(suite):
    """The timelock, which administers the badge contract."""
    return accounts.at(suite.timelock.address, force=True)


@pytest.fixture(scope="module")
def guardian(badges, governance):
    account = accounts[5]
    badges.grantRole(badges.GUARDIAN_ROLE(), account, {"from": governance})
    return account


@pytest.fixture(scope="module")
def event30(badges, org, issuer, open_event):
    """An open event of organization 1 worth 30 points (event 2: after `open_event`, whose id is fixed)."""
    t = now()
    return badges.createEvent(org, "", 30, t - 60, t + 7 * DAY, 0, {"from": issuer}).return_value


def allowance_of(badges, organization_id: int) -> dict:
    keys = ("allowance", "issuedThisPeriod", "periodEnd", "custom", "suspended")
    return dict(zip(keys, badges.organizationAllowance(organization_id)))


def voucher_claim(badges, issuer, recipient, event_id, relayer):
    deadline = now() + HOUR
    return badges.claim(recipient, event_id, deadline, voucher(badges, issuer, recipient, event_id, deadline),
                        {"from": relayer})


# ------------------------------------------------------------------ defaults, roles, interface


def test_constructor_starts_without_limits_and_says_so(deployer):
    fresh = ParticipationBadges.deploy(deployer, "u", {"from": deployer})
    assert list(fresh.issuingLimits()) == [NO_CAP, NO_ALLOWANCE, THIRTY_DAYS]
    assert dict(fresh.tx.events["IssuingLimitsChanged"]) == {
        "maxEventPoints": NO_CAP, "defaultAllowance": NO_ALLOWANCE, "allowancePeriod": THIRTY_DAYS,
    }


def test_guardian_role_is_administered_by_governance(badges):
    assert badges.GUARDIAN_ROLE() == "0x" + web3.keccak(text="GUARDIAN_ROLE").hex().removeprefix("0x")
    assert badges.getRoleAdmin(badges.GUARDIAN_ROLE()) == badges.DEFAULT_ADMIN_ROLE()


def test_badges_declare_the_issuing_limits_interface(badges):
    signatures = ["setMaxEventPoints(uint256)", "setDefaultAllowance(uint256)", "setAllowancePeriod(uint256)",
                  "setOrganizationAllowance(uint64,uint256)", "useDefaultAllowance(uint64)",
                  "suspendOrganization(uint64)", "resumeOrganization(uint64)", "issuingLimits()",
                  "organizationAllowance(uint64)"]
    interface_id = 0
    for signature in signatures:
        interface_id ^= int.from_bytes(web3.keccak(text=signature)[:4], "big")
    assert badges.supportsInterface(f"0x{interface_id:08x}")


def test_an_organizations_allowance_starts_unused_and_unlimited(badges, org):
    assert allowance_of(badges, org) == {"allowance": NO_ALLOWANCE, "issuedThisPeriod": 0,
                                         "periodEnd": (now() // THIRTY_DAYS + 1) * THIRTY_DAYS - 1,
                                         "custom": False, "suspended": False}


def test_an_unknown_organization_has_no_allowance(badges, org):
    with brownie.reverts(revert_pattern=custom_error("UnknownOrganization", 7)):
        badges.organizationAllowance(7)


# ------------------------------------------------------------------ governance sets the limits


def test_governance_sets_the_cap(badges, governance):
    tx = badges.setMaxEventPoints(100, {"from": governance})
    assert dict(tx.events["IssuingLimitsChanged"]) == {
        "maxEventPoints": 100, "defaultAllowance": NO_ALLOWANCE, "allowancePeriod": THIRTY_DAYS,
    }
    assert list(badges.issuingLimits()) == [100, NO_ALLOWANCE, THIRTY_DAYS]


def test_governance_sets_the_default_allowance(badges, governance):
    tx = badges.setDefaultAllowance(2000, {"from": governance})
    assert dict(tx.events["IssuingLimitsChanged"]) == {
        "maxEventPoints": NO_CAP, "defaultAllowance": 2000, "allowancePeriod": THIRTY_DAYS,
    }
    assert list(badges.issuingLimits()) == [NO_CAP, 2000, THIRTY_DAYS]


def test_governance_sets_the_allowance_period(badges, governance):
    tx = badges.setAllowancePeriod(7 * DAY, {"from": governance})
    assert dict(tx.events["IssuingLimitsChanged"]) == {
        "maxEventPoints": NO_CAP, "defaultAllowance": NO_ALLOWANCE, "allowancePeriod": 7 * DAY,
    }
    assert list(badges.issuingLimits()) == [NO_CAP, NO_ALLOWANCE, 7 * DAY]


@pytest.mark.parametrize("setter, value", [
    ("setMaxEventPoints", 0), ("setMaxEventPoints", 2**32),
    ("setDefaultAllowance", 2**64),
    ("setAllowancePeriod", HOUR - 1), ("setAllowancePeriod", 366 * DAY + 1), ("setAllowancePeriod", 0),
])
def test_limits_outside_their_bounds_are_refused(badges, governance, setter, value):
    with brownie.reverts(revert_pattern=custom_error("InvalidIssuingLimit", value)):
        getattr(badges, setter)(value, {"from": governance})


def test_organization_allowance_outside_its_bounds_is_refused(badges, org, governance):
    with brownie.reverts(revert_pattern=custom_error("InvalidIssuingLimit", 2**64)):
        badges.setOrganizationAllowance(org, 2**64, {"from": governance})


@pytest.mark.parametrize("setter, value", [
    ("setMaxEventPoints", 1), ("setMaxEventPoints", 2**32 - 1), ("setDefaultAllowance", 0),
    ("setDefaultAllowance", 2**64 - 1), ("setAllowancePeriod", HOUR), ("setAllowancePeriod", 366 * DAY),
])
def test_limits_at_their_bounds_are_accepted(badges, governance, setter, value):
    tx = getattr(badges, setter)(value, {"from": governance})
    assert "IssuingLimitsChanged" in tx.events


@pytest.mark.parametrize("call", [
    ("setMaxEventPoints", 100), ("setDefaultAllowance", 2000), ("setAllowancePeriod", DAY),
    ("setOrganizationAllowance", 1, 500), ("useDefaultAllowance", 1), ("resumeOrganization", 1),
])
@pytest.mark.parametrize("who", ["registrar", "org_admin", "issuer", "outsider"])
def test_only_governance_changes_limits_and_lifts_suspensions(badges, org, request, call, who):
    account = request.getfixturevalue(who)
    name, *args = call
    with brownie.reverts(revert_pattern=unauthorized(account)):
        getattr(badges, name)(*args, {"from": account})


@pytest.mark.parametrize("call", [
    ("setOrganizationAllowance", 7, 500), ("useDefaultAllowance", 7), ("suspendOrganization", 7),
    ("resumeOrganization", 7), ("setOrganizationAllowance", 0, 500),
])
def test_allowances_and_suspensions_need_a_known_organization(badges, org, governance, call):
    name, organization_id, *args = call
    with brownie.reverts(revert_pattern=custom_error("UnknownOrganization", organization_id)):
        getattr(badges, name)(organization_id, *args, {"from": governance})


# ------------------------------------------------------------------ the cap on an event's points


def test_event_above_the_cap_is_refused(badges, org, issuer, governance):
    badges.setMaxEventPoints(100, {"from": governance})
    t = now()
    with brownie.reverts(revert_pattern=custom_error("EventPointsAboveCap", 101, 100)):
        badges.createEvent(org, "", 101, t, t + DAY, 0, {"from": issuer})


def test_event_at_the_cap_is_created(badges, org, issuer, governance):
    badges.setMaxEventPoints(100, {"from": governance})
    t = now()
    tx = badges.createEvent(org, "", 100, t, t + DAY, 0, {"from": issuer})
    assert tx.events["EventCreated"]["points"] == 100


def test_the_cap_applies_when_an_event_is_created_not_to_older_events(badges, event30, issuer, members, governance):
    badges.setMaxEventPoints(10, {"from": governance})
    badges.issue(event30, [members[0]], {"from": issuer})
    assert badges.balanceOf(members[0], event30) == 1


# ------------------------------------------------------------------ the allowance


def test_a_batch_uses_recipients_times_points_of_the_allowance(badges, org, event30, issuer, members, governance):
    badges.setDefaultAllowance(1000, {"from": governance})
    badges.issue(event30, [m.address for m in members], {"from": issuer})
    assert allowance_of(badges, org)["issuedThisPeriod"] == 4 * 30
    assert allowance_of(badges, org)["allowance"] == 1000


def test_a_batch_beyond_the_allowance_reverts_with_the_exact_remainder(badges, org, event30, issuer, governance):
    badges.setDefaultAllowance(200, {"from": governance})
    badges.issue(event30, addresses(4), {"from": issuer})  # 120 used, 80 remain
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, 90, 80)):
        badges.issue(event30, addresses(3, start=4), {"from": issuer})


def test_a_batch_may_use_the_allowance_to_the_last_point(badges, org, event30, issuer, governance):
    badges.setDefaultAllowance(120, {"from": governance})
    badges.issue(event30, addresses(4), {"from": issuer})
    assert allowance_of(badges, org)["issuedThisPeriod"] == 120


def test_a_voucher_claim_uses_the_events_points_of_the_allowance(badges, org, event30, issuer, members, outsider,
                                                                 governance):
    badges.setDefaultAllowance(100, {"from": governance})
    voucher_claim(badges, issuer, members[0], event30, outsider)
    assert allowance_of(badges, org)["issuedThisPeriod"] == 30


def test_a_voucher_claim_beyond_the_allowance_reverts_with_the_exact_remainder(badges, org, event30, issuer,
                                                                               members, outsider, governance):
    badges.setDefaultAllowance(70, {"from": governance})
    badges.issue(event30, [members[0].address, members[1].address], {"from": issuer})  # 60 used, 10 remain
    deadline = now() + HOUR
    signature = voucher(badges, issuer, members[2], event30, deadline)
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, 30, 10)):
        badges.claim(members[2], event30, deadline, signature, {"from": outsider})


def test_the_allowance_counts_every_event_of_the_organization(badges, org, event30, open_event, issuer, members,
                                                             governance):
    badges.setDefaultAllowance(45, {"from": governance})
    badges.issue(event30, [members[0]], {"from": issuer})
    badges.issue(open_event, [members[0]], {"from": issuer})  # 30 + 10 = 40 used
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, 10, 5)):
        badges.issue(open_event, [members[1]], {"from": issuer})


def test_each_organization_has_an_allowance_of_its_own(badges, org, event30, issuer, registrar, org_admin, members,
                                                        governance):
    badges.setDefaultAllowance(30, {"from": governance})
    badges.issue(event30, [members[0]], {"from": issuer})  # organization 1 used all of it
    badges.createOrganization(org_admin, {"from": registrar})
    badges.grantRole(badges.organizationIssuerRole(2), issuer, {"from": org_admin})
    t = now()
    other = badges.createEvent(2, "", 30, t - 1, t + DAY, 0, {"from": issuer}).return_value
    badges.issue(other, [members[0]], {"from": issuer})
    assert allowance_of(badges, 2)["issuedThisPeriod"] == 30


def test_the_allowance_starts_again_in_the_next_window(badges, org, event30, issuer, members, governance):
    badges.setAllowancePeriod(HOUR, {"from": governance})
    badges.setDefaultAllowance(60, {"from": governance})
    badges.issue(event30, [members[0].address, members[1].address], {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, 30, 0)):
        badges.issue(event30, [members[2]], {"from": issuer})
    chain.sleep(allowance_of(badges, org)["periodEnd"] - now() + 1)
    chain.mine()
    badges.issue(event30, [members[2]], {"from": issuer})
    assert allowance_of(badges, org)["issuedThisPeriod"] == 30


def test_the_count_of_the_last_window_is_not_reported_in_the_next(badges, org, event30, issuer, members, governance):
    badges.setAllowancePeriod(HOUR, {"from": governance})
    badges.issue(event30, [members[0]], {"from": issuer})
    chain.sleep(HOUR)
    chain.mine()
    assert allowance_of(badges, org)["issuedThisPeriod"] == 0


def test_the_period_ends_at_the_last_second_of_its_window(badges, org, governance):
    badges.setAllowancePeriod(DAY, {"from": governance})
    period_end = allowance_of(badges, org)["periodEnd"]
    assert (period_end + 1) % DAY == 0 and period_end >= now() > period_end - DAY


def test_a_custom_allowance_replaces_the_default(badges, org, event30, issuer, governance):
    badges.setDefaultAllowance(30, {"from": governance})
    tx = badges.setOrganizationAllowance(org, 90, {"from": governance})
    assert dict(tx.events["OrganizationAllowanceChanged"]) == {"organizationId": org, "allowance": 90, "custom": True}
    badges.issue(event30, addresses(3), {"from": issuer})
    state = allowance_of(badges, org)
    assert (state["allowance"], state["issuedThisPeriod"], state["custom"]) == (90, 90, True)


def test_a_custom_allowance_does_not_follow_the_default(badges, org, governance):
    badges.setOrganizationAllowance(org, 90, {"from": governance})
    badges.setDefaultAllowance(5000, {"from": governance})
    assert allowance_of(badges, org)["allowance"] == 90


def test_an_organization_goes_back_to_the_default_allowance(badges, org, event30, issuer, governance):
    badges.setDefaultAllowance(30, {"from": governance})
    badges.setOrganizationAllowance(org, 90, {"from": governance})
    tx = badges.useDefaultAllowance(org, {"from": governance})
    assert dict(tx.events["OrganizationAllowanceChanged"]) == {"organizationId": org, "allowance": 30, "custom": False}
    assert (allowance_of(badges, org)["allowance"], allowance_of(badges, org)["custom"]) == (30, False)
    badges.issue(event30, addresses(1), {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, 30, 0)):
        badges.issue(event30, addresses(1, start=1), {"from": issuer})


def test_a_zero_allowance_issues_nothing(badges, org, open_event, issuer, members, governance):
    tx = badges.setOrganizationAllowance(org, 0, {"from": governance})
    assert dict(tx.events["OrganizationAllowanceChanged"]) == {"organizationId": org, "allowance": 0, "custom": True}
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, POINTS_PER_BADGE, 0)):
        badges.issue(open_event, [members[0]], {"from": issuer})


def test_a_zero_allowance_refuses_vouchers_too(badges, org, open_event, issuer, members, outsider, governance):
    badges.setOrganizationAllowance(org, 0, {"from": governance})
    deadline = now() + HOUR
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, POINTS_PER_BADGE, 0)):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_badges_worth_no_points_use_no_allowance(badges, org, issuer, members, governance):
    badges.setOrganizationAllowance(org, 0, {"from": governance})
    t = now()
    thanks = badges.createEvent(org, "", 0, t - 1, t + DAY, 0, {"from": issuer}).return_value
    badges.issue(thanks, [members[0]], {"from": issuer})
    assert badges.balanceOf(members[0], thanks) == 1 and allowance_of(badges, org)["issuedThisPeriod"] == 0


def test_an_allowance_lowered_below_what_was_issued_leaves_nothing(badges, org, open_event, issuer, members,
                                                                   governance):
    badges.issue(open_event, [m.address for m in members[:3]], {"from": issuer})  # 30 issued, no limit yet
    badges.setOrganizationAllowance(org, 20, {"from": governance})
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, POINTS_PER_BADGE, 0)):
        badges.issue(open_event, [members[3]], {"from": issuer})


def test_revoking_gives_no_allowance_back(badges, org, event30, issuer, members, governance):
    badges.setDefaultAllowance(30, {"from": governance})
    badges.issue(event30, [members[0]], {"from": issuer})
    badges.revoke(event30, members[0], "issued by mistake", {"from": issuer})
    assert allowance_of(badges, org)["issuedThisPeriod"] == 30
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", org, 30, 0)):
        badges.issue(event30, [members[1]], {"from": issuer})


# ------------------------------------------------------------------ suspension


def test_the_guardian_suspends_an_organization(badges, org, guardian):
    tx = badges.suspendOrganization(org, {"from": guardian})
    assert dict(tx.events["OrganizationSuspended"]) == {"organizationId": org, "by": guardian}
    assert allowance_of(badges, org)["suspended"]


def test_governance_suspends_an_organization(badges, org, governance):
    tx = badges.suspendOrganization(org, {"from": governance})
    assert dict(tx.events["OrganizationSuspended"]) == {"organizationId": org, "by": governance}


@pytest.mark.parametrize("who", ["registrar", "org_admin", "issuer", "outsider"])
def test_nobody_else_suspends(badges, org, request, who):
    account = request.getfixturevalue(who)
    with brownie.reverts(revert_pattern=unauthorized(account)):
        badges.suspendOrganization(org, {"from": account})


def test_a_suspended_organization_creates_no_event(badges, org, issuer, guardian):
    badges.suspendOrganization(org, {"from": guardian})
    t = now()
    with brownie.reverts(revert_pattern=custom_error("OrganizationIsSuspended", org)):
        badges.createEvent(org, "", 10, t, t + DAY, 0, {"from": issuer})


def test_a_suspended_organization_updates_no_event(badges, org, open_event, issuer, guardian):
    badges.suspendOrganization(org, {"from": guardian})
    t = now()
    with brownie.reverts(revert_pattern=custom_error("OrganizationIsSuspended", org)):
        badges.updateEvent(open_event, "", t, t + 30 * DAY, 0, {"from": issuer})


def test_a_suspended_organization_issues_nothing(badges, org, open_event, issuer, members, guardian):
    badges.suspendOrganization(org, {"from": guardian})
    with brownie.reverts(revert_pattern=custom_error("OrganizationIsSuspended", org)):
        badges.issue(open_event, [members[0]], {"from": issuer})


def test_a_suspended_organizations_vouchers_claim_nothing(badges, org, open_event, issuer, members, outsider,
                                                          guardian):
    deadline = now() + HOUR
    signature = voucher(badges, issuer, members[0], open_event, deadline)  # signed before the suspension
    badges.suspendOrganization(org, {"from": guardian})
    with brownie.reverts(revert_pattern=custom_error("OrganizationIsSuspended", org)):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_a_suspended_organization_revokes_nothing(badges, org, open_event, issuer, members, guardian):
    badges.issue(open_event, [members[0]], {"from": issuer})
    badges.suspendOrganization(org, {"from": guardian})
    with brownie.reverts(revert_pattern=custom_error("OrganizationIsSuspended", org)):
        badges.revoke(open_event, members[0], "revenge", {"from": issuer})


def test_a_suspension_leaves_other_organizations_alone(badges, org, issuer, registrar, org_admin, members, guardian):
    badges.createOrganization(org_admin, {"from": registrar})
    badges.grantRole(badges.organizationIssuerRole(2), issuer, {"from": org_admin})
    badges.suspendOrganization(org, {"from": guardian})
    t = now()
    other = badges.createEvent(2, "", 10, t - 1, t + DAY, 0, {"from": issuer}).return_value
    badges.issue(other, [members[0]], {"from": issuer})
    assert badges.balanceOf(members[0], other) == 1


def test_a_suspension_leaves_badges_already_issued_with_their_holders(badges, points, org, open_event, issuer,
                                                                      members, guardian):
    badges.issue(open_event, [members[0]], {"from": issuer})
    badges.suspendOrganization(org, {"from": guardian})
    assert badges.balanceOf(members[0], open_event) == 1 and points.getVotes(members[0]) == POINTS_PER_BADGE


def test_governance_lifts_a_suspension(badges, org, open_event, issuer, members, guardian, governance):
    badges.suspendOrganization(org, {"from": guardian})
    tx = badges.resumeOrganization(org, {"from": governance})
    assert dict(tx.events["OrganizationResumed"]) == {"organizationId": org}
    assert not allowance_of(badges, org)["suspended"]
    badges.issue(open_event, [members[0]], {"from": issuer})
    assert badges.balanceOf(members[0], open_event) == 1


# ------------------------------------------------------------------ what the guardian cannot do


def test_the_guardian_cannot_lift_a_suspension(badges, org, guardian):
    badges.suspendOrganization(org, {"from": guardian})
    with brownie.reverts(revert_pattern=unauthorized(guardian)):
        badges.resumeOrganization(org, {"from": guardian})


@pytest.mark.parametrize("call", [
    ("setMaxEventPoints", 1_000_000), ("setDefaultAllowance", 10**9), ("setAllowancePeriod", HOUR),
    ("setOrganizationAllowance", 1, 10**9), ("useDefaultAllowance", 1),
])
def test_the_guardian_cannot_change_limits(badges, org, guardian, call):
    name, *args = call
    with brownie.reverts(revert_pattern=unauthorized(guardian)):
        getattr(badges, name)(*args, {"from": guardian})


@pytest.mark.parametrize("role", ["GUARDIAN_ROLE", "REGISTRAR_ROLE", "DEFAULT_ADMIN_ROLE", "organization_admin",
                                  "organization_issuer"])
def test_the_guardian_cannot_grant_roles(badges, org, guardian, outsider, role):
    role_id = {"organization_admin": lambda: badges.organizationAdminRole(org),
               "organization_issuer": lambda: badges.organizationIssuerRole(org)}.get(
        role, lambda: getattr(badges, role)())()
    admin_role = badges.getRoleAdmin(role_id)
    with brownie.reverts(revert_pattern=unauthorized(guardian, admin_role)):
        badges.grantRole(role_id, outsider, {"from": guardian})


def test_the_guardian_cannot_set_the_metadata_uri(badges, guardian):
    with brownie.reverts(revert_pattern=unauthorized(guardian)):
        badges.setDefaultURI("https://evil.example/{id}", {"from": guardian})
