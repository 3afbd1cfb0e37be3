"""Organizations, issuers and events: who may do what, and exact events."""

from __future__ import annotations

import brownie
from brownie import ParticipationBadges, chain

from tests.contracts.conftest import DAY, POINTS_PER_BADGE, now
from tests.helpers.reverts import custom_error


def test_registrar_creates_organization_with_its_admin(badges, registrar, org_admin):
    tx = badges.createOrganization(org_admin, {"from": registrar})
    assert tx.return_value == 1
    assert dict(tx.events["OrganizationCreated"]) == {"organizationId": 1, "admin": org_admin}
    assert badges.hasRole(badges.organizationAdminRole(1), org_admin)
    assert badges.organizationCount() == 1


def test_only_registrar_creates_organizations(badges, outsider):
    with brownie.reverts(revert_pattern="AccessControlUnauthorizedAccount.*"):
        badges.createOrganization(outsider, {"from": outsider})


def test_organization_admin_grants_issuers_of_its_own_organization_only(badges, registrar, org_admin, outsider):
    badges.createOrganization(org_admin, {"from": registrar})
    badges.createOrganization(outsider, {"from": registrar})
    badges.grantRole(badges.organizationIssuerRole(1), outsider, {"from": org_admin})
    assert badges.isIssuer(1, outsider)
    with brownie.reverts(revert_pattern="AccessControlUnauthorizedAccount.*"):
        badges.grantRole(badges.organizationIssuerRole(2), org_admin, {"from": org_admin})


def test_contract_admin_is_the_admin_of_every_organization_admin_role(suite, registrar, org_admin):
    badges, timelock = suite.badges, suite.timelock
    badges.createOrganization(org_admin, {"from": registrar})
    # governance (the timelock) can therefore replace the admins of a misbehaving organization
    assert badges.getRoleAdmin(badges.organizationAdminRole(1)) == badges.DEFAULT_ADMIN_ROLE()
    assert badges.getRoleAdmin(badges.organizationIssuerRole(1)) == badges.organizationAdminRole(1)
    assert badges.hasRole(badges.DEFAULT_ADMIN_ROLE(), timelock)


def test_issuer_creates_event(badges, org, issuer):
    t = now()
    tx = badges.createEvent(org, "ipfs://festival/{id}.json", 15, t, t + DAY, 500, {"from": issuer})
    assert tx.return_value == 1
    assert dict(tx.events["EventCreated"]) == {
        "eventId": 1, "organizationId": org, "points": 15, "claimStart": t, "claimEnd": t + DAY, "capacity": 500,
    }
    assert dict(tx.events["Soulbound"]) == {"id": 1, "bounded": True}
    assert dict(tx.events["URI"]) == {"value": "ipfs://festival/{id}.json", "id": 1}
    assert list(badges.eventInfo(1)) == [org, 15, 500, 0, t, t + DAY]
    assert badges.eventCount() == 1


def test_event_without_uri_uses_the_default_template(badges, open_event):
    assert badges.uri(open_event) == "http://127.0.0.1:8000/metadata/{id}.json"


def test_non_issuer_cannot_create_event(badges, org, outsider):
    t = now()
    with brownie.reverts(revert_pattern=custom_error("NotIssuer", org, outsider)):
        badges.createEvent(org, "", 1, t, t + DAY, 0, {"from": outsider})


def test_issuer_of_another_organization_cannot_create_event(badges, org, registrar, outsider, issuer):
    badges.createOrganization(outsider, {"from": registrar})
    t = now()
    with brownie.reverts(revert_pattern=custom_error("NotIssuer", 2, issuer)):
        badges.createEvent(2, "", 1, t, t + DAY, 0, {"from": issuer})


def test_unknown_organization_is_refused(badges, org, issuer):
    t = now()
    with brownie.reverts(revert_pattern=custom_error("UnknownOrganization", 7)):
        badges.createEvent(7, "", 1, t, t + DAY, 0, {"from": issuer})


def test_claim_window_must_end_after_it_starts(badges, org, issuer):
    t = now()
    with brownie.reverts(revert_pattern=custom_error("InvalidClaimWindow", t, t)):
        badges.createEvent(org, "", 1, t, t, 0, {"from": issuer})


def test_issuer_updates_window_capacity_and_uri(badges, open_event, issuer):
    t = now()
    tx = badges.updateEvent(open_event, "https://kyoso.example/e/{id}", t, t + 2 * DAY, 40, {"from": issuer})
    assert dict(tx.events["EventUpdated"]) == {"eventId": 1, "claimStart": t, "claimEnd": t + 2 * DAY, "capacity": 40}
    assert dict(tx.events["URI"]) == {"value": "https://kyoso.example/e/{id}", "id": 1}
    assert badges.eventInfo(open_event)[1] == POINTS_PER_BADGE  # points never change


def test_capacity_cannot_drop_below_issued(badges, open_event, issuer, members):
    badges.issue(open_event, [m.address for m in members[:3]], {"from": issuer})
    t = now()
    with brownie.reverts(revert_pattern=custom_error("CapacityBelowIssued", 2, 3)):
        badges.updateEvent(open_event, "", t, t + DAY, 2, {"from": issuer})


def test_non_issuer_cannot_update_event(badges, open_event, outsider):
    t = now()
    with brownie.reverts(revert_pattern="NotIssuer: .*"):
        badges.updateEvent(open_event, "", t, t + DAY, 0, {"from": outsider})


def test_unknown_event_is_refused(badges, issuer):
    with brownie.reverts(revert_pattern=custom_error("UnknownEvent", 42)):
        badges.eventInfo(42)


def test_points_ledger_is_set_once(deployer, points):
    fresh = ParticipationBadges.deploy(deployer, "u", {"from": deployer})
    tx = fresh.setPointsLedger(points, {"from": deployer})
    assert dict(tx.events["PointsLedgerSet"]) == {"points": points}
    with brownie.reverts(revert_pattern=custom_error("PointsLedgerAlreadySet")):
        fresh.setPointsLedger(points, {"from": deployer})


def test_admin_sets_default_uri(deployer, outsider):
    fresh = ParticipationBadges.deploy(deployer, "u", {"from": deployer})
    tx = fresh.setDefaultURI("https://kyoso.example/m/{id}", {"from": deployer})
    assert dict(tx.events["DefaultURIChanged"]) == {"uri": "https://kyoso.example/m/{id}"}
    assert fresh.uri(5) == "https://kyoso.example/m/{id}"
    with brownie.reverts(revert_pattern="AccessControlUnauthorizedAccount.*"):
        fresh.setDefaultURI("x", {"from": outsider})


def test_update_needs_a_valid_window_and_a_known_event(badges, open_event, issuer):
    t = now()
    with brownie.reverts(revert_pattern=custom_error("InvalidClaimWindow", t + 10, t)):
        badges.updateEvent(open_event, "", t + 10, t, 0, {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("UnknownEvent", 99)):
        badges.updateEvent(99, "", t, t + 10, 0, {"from": issuer})
