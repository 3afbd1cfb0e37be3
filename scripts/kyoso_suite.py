"""The contract suite as brownie contract objects, for scripts/deploy.py, the brownie tests and the gas benchmark.

The deployment itself is scripts/suite.py's, sent over brownie's own connection; brownie then attaches to the
addresses, so that the tests call the contracts and read their events as with contracts brownie deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

from brownie import (
    KyosoGovernor,
    KyosoQuadraticGovernor,
    KyosoTimelock,
    ParticipationBadges,
    ParticipationPoints,
    web3,
)
from eth_account import Account

from scripts.suite import Deployment, GovernanceSettings, Signer, TxPolicy
from scripts.suite import deploy_suite as deploy_with_web3

CONTAINERS = {container._name: container for container in (
    ParticipationBadges, ParticipationPoints, KyosoTimelock, KyosoGovernor, KyosoQuadraticGovernor)}


@dataclass
class Suite:
    badges: object
    points: object
    timelock: object
    governor: object
    deployment: Deployment

    @property
    def transactions(self) -> dict[str, str]:
        """step -> transaction hash"""
        return self.deployment.transactions

    def contracts(self) -> dict[str, object]:
        return {
            "ParticipationBadges": self.badges,
            "ParticipationPoints": self.points,
            "KyosoTimelock": self.timelock,
            "KyosoGovernor": self.governor,
        }


def signer_of(account) -> Signer:
    """A key brownie holds (`accounts.add`, `accounts.load`) signs in this process; any other brownie account is one
    the node holds unlocked (Anvil's own, or impersonated on a fork by `accounts.at(..., force=True)`)."""
    key = getattr(account, "private_key", None)
    return Account.from_key(key) if key else account.address


def deploy_suite(deployer, registrar: str, settings: GovernanceSettings, policy: TxPolicy | None = None) -> Suite:
    """Deploys every contract, wires every role, and leaves the deployer with none."""
    deployment = deploy_with_web3(web3, signer_of(deployer), str(registrar), settings, policy)

    def attached(name: str):
        entry = deployment.contracts[name]
        # not into brownie's own record of live deployments: the project's is deployments/<chain-id>.json, and
        # brownie 1.22 fails to write this project's sources into its own (TypeError in _add_deployment)
        return CONTAINERS[entry.artifact].at(entry.address, owner=deployer, persist=False)

    return Suite(badges=attached("ParticipationBadges"), points=attached("ParticipationPoints"),
                 timelock=attached("KyosoTimelock"), governor=attached("KyosoGovernor"), deployment=deployment)
