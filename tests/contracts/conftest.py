"""Module-scoped deployment of the whole suite, isolated per test (brownie token-mix style)."""

from __future__ import annotations

import pytest
from brownie import accounts, chain

from scripts.kyoso_suite import GovernanceSettings, deploy_suite

POINTS_PER_BADGE = 10
DAY = 24 * 60 * 60


def now() -> int:
    """The chain's time (the latest block's timestamp), which is what the contracts compare with."""
    return chain[-1].timestamp


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="module")
def deployer():
    return accounts[0]


@pytest.fixture(scope="module")
def registrar():
    return accounts[1]


@pytest.fixture(scope="module")
def org_admin():
    return accounts[2]


@pytest.fixture(scope="module")
def issuer():
    """An issuer with a known private key, so that it can sign vouchers."""
    account = accounts.add("0x" + "5a" * 32)
    accounts[9].transfer(account, "10 ether")
    return account


@pytest.fixture(scope="module")
def members():
    return [accounts.add("0x" + f"{i + 1:064x}") for i in range(4)]


@pytest.fixture(scope="module")
def outsider():
    return accounts[3]


def deploy(deployer, registrar, counting: str):
    return deploy_suite(deployer, registrar.address, GovernanceSettings(counting=counting))


@pytest.fixture(scope="module")
def suite(deployer, registrar):
    return deploy(deployer, registrar, "simple")


@pytest.fixture(scope="module")
def badges(suite):
    return suite.badges


@pytest.fixture(scope="module")
def points(suite):
    return suite.points


@pytest.fixture(scope="module")
def org(badges, registrar, org_admin, issuer):
    """Organization 1 (e.g. Kanazawa City), with `issuer` as its issuer."""
    badges.createOrganization(org_admin, {"from": registrar})
    badges.grantRole(badges.organizationIssuerRole(1), issuer, {"from": org_admin})
    return 1


@pytest.fixture(scope="module")
def open_event(badges, org, issuer):
    """Event 1: claim window open for a week from now, 10 points, no capacity limit."""
    start = now()
    badges.createEvent(org, "", POINTS_PER_BADGE, start - 60, start + 7 * DAY, 0, {"from": issuer})
    return 1
