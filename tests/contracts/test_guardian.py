"""The deployment's issuing limits and guardian (scripts/deploy-config.yaml, kyoso-dev: what `make run` deploys), and
what the guardian can do through the timelock: cancel a queued operation, and nothing else; only a passed proposal
lifts a suspension."""

from __future__ import annotations

import brownie
import pytest
from brownie import accounts, chain, web3

from scripts.deploy_target import governance_settings
from scripts.kyoso_suite import deploy_suite
from tests.contracts.conftest import DAY, now
from tests.contracts.test_issuing_limits import unauthorized
from tests.helpers.reverts import custom_error

MAKE_RUN = governance_settings("kyoso-dev")
ANVIL_ACCOUNT_9 = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
FOR = 1
CANCELED, QUEUED, EXECUTED = 2, 5, 7


class Community:
    """The suite as `make run` deploys it, an organization whose issuer gave a member 100 points."""

    def __init__(self, deployer, registrar, org_admin, issuer, member):
        self.suite = deploy_suite(deployer, registrar.address, MAKE_RUN)
        self.badges, self.timelock, self.governor = self.suite.badges, self.suite.timelock, self.suite.governor
        self.member = member
        self.badges.createOrganization(org_admin, {"from": registrar})
        self.badges.grantRole(self.badges.organizationIssuerRole(1), issuer, {"from": org_admin})
        t = now()
        event = self.badges.createEvent(1, "", 100, t - 60, t + 30 * DAY, 0, {"from": issuer}).return_value
        self.badges.issue(event, [member], {"from": issuer})

    def pass_and_queue(self, targets, values, calldatas, description):
        """Proposes, passes with the member's vote and queues; returns the proposal id and the timelock's operation
        id."""
        proposal_id = self.governor.propose(targets, values, calldatas, description,
                                            {"from": self.member, "gas_buffer": 1.5}).return_value
        chain.sleep(MAKE_RUN.voting_delay_s + 1)
        chain.mine()
        self.governor.castVote(proposal_id, FOR, {"from": self.member})
        chain.sleep(MAKE_RUN.voting_period_s + 1)
        chain.mine()
        tx = self.governor.queue(targets, values, calldatas, web3.keccak(text=description), {"from": self.member})
        assert self.governor.state(proposal_id) == QUEUED
        return proposal_id, tx.events["CallScheduled"][0]["id"]

    def execute(self, targets, values, calldatas, description):
        chain.sleep(MAKE_RUN.timelock_delay_s + 1)
        chain.mine()
        return self.governor.execute(targets, values, calldatas, web3.keccak(text=description), {"from": self.member})


@pytest.fixture(scope="module")
def community(deployer, registrar, org_admin, issuer, members):
    return Community(deployer, registrar, org_admin, issuer, members[0])


@pytest.fixture(scope="module")
def guardian(community):
    return accounts.at(MAKE_RUN.guardian, force=True)


# ------------------------------------------------------------------ the deploy config


def test_make_run_deploys_limits_and_anvils_account_9_as_guardian():
    assert (MAKE_RUN.max_event_points, MAKE_RUN.points_allowance, MAKE_RUN.allowance_period_s) == (
        100, 2000, 30 * DAY)
    assert MAKE_RUN.guardian == ANVIL_ACCOUNT_9


def test_public_networks_get_the_default_limits_and_no_guardian():
    settings = governance_settings("kyoso-sepolia")
    assert (settings.max_event_points, settings.points_allowance, settings.allowance_period_s) == (100, 2000, 30 * DAY)
    assert settings.guardian is None


def test_the_deploy_config_limits_land_on_chain(community):
    assert list(community.badges.issuingLimits()) == [100, 2000, 30 * DAY]


def test_the_deploy_config_guardian_may_suspend_and_cancel(community):
    badges, timelock = community.badges, community.timelock
    assert badges.hasRole(badges.GUARDIAN_ROLE(), ANVIL_ACCOUNT_9)
    assert timelock.hasRole(timelock.CANCELLER_ROLE(), ANVIL_ACCOUNT_9)


def test_the_guardian_holds_no_other_role(community):
    badges, timelock = community.badges, community.timelock
    for role in (badges.DEFAULT_ADMIN_ROLE(), badges.REGISTRAR_ROLE(), badges.organizationAdminRole(1),
                 badges.organizationIssuerRole(1)):
        assert not badges.hasRole(role, ANVIL_ACCOUNT_9)
    for role in (timelock.DEFAULT_ADMIN_ROLE(), timelock.PROPOSER_ROLE(), timelock.EXECUTOR_ROLE()):
        assert not timelock.hasRole(role, ANVIL_ACCOUNT_9)


def test_the_deployer_keeps_no_guardian_power(community, deployer):
    badges, timelock = community.badges, community.timelock
    assert not badges.hasRole(badges.GUARDIAN_ROLE(), deployer)
    assert not timelock.hasRole(timelock.CANCELLER_ROLE(), deployer)


def test_settings_without_limits_leave_the_contracts_default(suite):
    assert list(suite.badges.issuingLimits()) == [2**32 - 1, 2**64 - 1, 30 * DAY]


def test_the_deployed_cap_refuses_a_million_point_event(community, issuer):
    t = now()
    with brownie.reverts(revert_pattern=custom_error("EventPointsAboveCap", 1_000_000, 100)):
        community.badges.createEvent(1, "", 1_000_000, t, t + DAY, 0, {"from": issuer})


def test_the_deployed_allowance_stops_a_flood_of_sock_puppets(community, issuer):
    t = now()
    event = community.badges.createEvent(1, "", 100, t - 1, t + DAY, 0, {"from": issuer}).return_value
    puppets = [web3.to_checksum_address(f"0x{0xBEEF0000 + i:040x}") for i in range(20)]
    # the member's 100 points were counted already: 1,900 remain of 2,000
    with brownie.reverts(revert_pattern=custom_error("AllowanceExceeded", 1, 2000, 1900)):
        community.badges.issue(event, puppets, {"from": issuer})


# ------------------------------------------------------------------ the guardian and the timelock


def test_the_guardian_cancels_a_queued_proposal(community, guardian):
    c = community
    targets, values, calldatas = [c.badges], [0], [c.badges.setMaxEventPoints.encode_input(1_000_000)]
    proposal_id, operation = c.pass_and_queue(targets, values, calldatas, "Events worth a million points")
    tx = c.timelock.cancel(operation, {"from": guardian})
    assert dict(tx.events["Cancelled"]) == {"id": operation}
    assert c.governor.state(proposal_id) == CANCELED


def test_a_cancelled_operation_cannot_be_executed(community, guardian):
    c = community
    targets, values, calldatas = [c.badges], [0], [c.badges.setMaxEventPoints.encode_input(1_000_000)]
    description = "Events worth a million points"
    _proposal_id, operation = c.pass_and_queue(targets, values, calldatas, description)
    c.timelock.cancel(operation, {"from": guardian})
    with brownie.reverts(revert_pattern="GovernorUnexpectedProposalState: .*"):
        c.execute(targets, values, calldatas, description)
    assert c.badges.issuingLimits()[0] == 100


def test_the_guardian_cannot_schedule_on_the_timelock(community, guardian):
    timelock = community.timelock
    data = community.badges.resumeOrganization.encode_input(1)
    with brownie.reverts(revert_pattern=unauthorized(guardian, timelock.PROPOSER_ROLE())):
        timelock.schedule(community.badges, 0, data, "0x" + "00" * 32, "0x" + "00" * 32,
                          timelock.getMinDelay(), {"from": guardian})


def test_only_a_passed_proposal_lifts_the_guardians_suspension(community, guardian):
    c = community
    c.badges.suspendOrganization(1, {"from": guardian})
    targets, values, calldatas = [c.badges], [0], [c.badges.resumeOrganization.encode_input(1)]
    description = "Resume Kanazawa City's issuing"
    proposal_id, _operation = c.pass_and_queue(targets, values, calldatas, description)
    tx = c.execute(targets, values, calldatas, description)
    assert dict(tx.events["OrganizationResumed"]) == {"organizationId": 1}
    assert c.governor.state(proposal_id) == EXECUTED
    assert not c.badges.organizationAllowance(1)[4]


def test_a_passed_proposal_gives_an_organization_an_allowance_of_its_own(community):
    c = community
    targets, values, calldatas = [c.badges], [0], [c.badges.setOrganizationAllowance.encode_input(1, 10_000)]
    description = "The city's own allowance"
    c.pass_and_queue(targets, values, calldatas, description)
    tx = c.execute(targets, values, calldatas, description)
    assert dict(tx.events["OrganizationAllowanceChanged"]) == {"organizationId": 1, "allowance": 10_000,
                                                               "custom": True}
