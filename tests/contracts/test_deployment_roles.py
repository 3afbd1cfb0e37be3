"""After deployment the timelock administers everything, the governor proposes, and the deployer holds nothing."""

from __future__ import annotations

from brownie import ZERO_ADDRESS


def test_deployer_holds_no_power(suite, deployer):
    badges, points, timelock, governor = suite.badges, suite.points, suite.timelock, suite.governor
    assert not badges.hasRole(badges.DEFAULT_ADMIN_ROLE(), deployer)
    assert not badges.hasRole(badges.REGISTRAR_ROLE(), deployer)
    assert points.owner() != deployer
    for role in ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        assert not timelock.hasRole(getattr(timelock, role)(), deployer), role


def test_timelock_administers_badges_and_points(suite):
    assert suite.badges.hasRole(suite.badges.DEFAULT_ADMIN_ROLE(), suite.timelock)
    assert suite.points.owner() == suite.timelock
    assert suite.timelock.hasRole(suite.timelock.DEFAULT_ADMIN_ROLE(), suite.timelock)


def test_governor_is_the_only_proposer_and_anyone_executes(suite):
    timelock, governor = suite.timelock, suite.governor
    assert timelock.hasRole(timelock.PROPOSER_ROLE(), governor)
    assert timelock.hasRole(timelock.CANCELLER_ROLE(), governor)
    assert timelock.hasRole(timelock.EXECUTOR_ROLE(), ZERO_ADDRESS)
    assert governor.timelock() == timelock


def test_contracts_point_at_each_other(suite, registrar):
    assert suite.badges.pointsLedger() == suite.points
    assert suite.points.minter() == suite.badges
    assert suite.points.snapshotRegistrar() == suite.governor
    assert suite.governor.token() == suite.points
    assert suite.badges.hasRole(suite.badges.REGISTRAR_ROLE(), registrar)
