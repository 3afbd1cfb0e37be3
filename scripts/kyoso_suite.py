"""Deploys and wires the Kyoso contract suite; shared by scripts/deploy.py, the tests and the gas benchmark.

Wiring, in order (the deployer holds no power at the end):
1. ParticipationBadges, administered by the deployer for now;
2. ParticipationPoints, minted only by the badge contract, owned by the deployer for now;
3. the badge contract is pointed at the points ledger (once);
4. KyosoTimelock with the deployer as temporary admin, anyone as executor;
5. the governor (simple or quadratic counting), which the points ledger accepts snapshots from;
6. the governor becomes the timelock's proposer and canceller; the registrar may create organizations;
7. the timelock becomes admin of the badge contract and owner of the points ledger; the deployer renounces all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brownie import (
    KyosoGovernor,
    KyosoQuadraticGovernor,
    KyosoTimelock,
    ParticipationBadges,
    ParticipationPoints,
)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
COUNTING_MODES = {"simple": KyosoGovernor, "quadratic": KyosoQuadraticGovernor}


@dataclass(frozen=True)
class GovernanceSettings:
    counting: str = "simple"  # "simple" (one point, one vote) or "quadratic" (square root of points)
    voting_delay_s: int = 60 * 60  # proposal -> snapshot and start of voting
    voting_period_s: int = 7 * 24 * 60 * 60
    proposal_threshold: int = 10  # points
    quorum_percent: int = 4
    timelock_delay_s: int = 2 * 24 * 60 * 60
    default_uri: str = "http://127.0.0.1:8000/metadata/{id}.json"
    points_name: str = "Kyoso Participation Points"
    points_symbol: str = "KYOSO"


@dataclass
class Suite:
    badges: object
    points: object
    timelock: object
    governor: object
    transactions: dict[str, str] = field(default_factory=dict)  # step -> transaction hash

    def contracts(self) -> dict[str, object]:
        return {
            "ParticipationBadges": self.badges,
            "ParticipationPoints": self.points,
            "KyosoTimelock": self.timelock,
            "KyosoGovernor": self.governor,
        }


def deploy_suite(deployer, registrar: str, settings: GovernanceSettings, tx_params: dict | None = None) -> Suite:
    """Deploys every contract, wires every role, and leaves the deployer with none."""
    if settings.counting not in COUNTING_MODES:
        raise ValueError(f"counting must be one of {sorted(COUNTING_MODES)}, not {settings.counting!r}")
    params = {"from": deployer, **(tx_params or {})}
    txs: dict[str, str] = {}

    def record(step: str, tx) -> None:
        txs[step] = tx.txid

    badges = ParticipationBadges.deploy(deployer, settings.default_uri, params)
    record("deploy ParticipationBadges", badges.tx)
    points = ParticipationPoints.deploy(settings.points_name, settings.points_symbol, badges, deployer, params)
    record("deploy ParticipationPoints", points.tx)
    record("badges.setPointsLedger", badges.setPointsLedger(points, params))
    timelock = KyosoTimelock.deploy(settings.timelock_delay_s, [], [ZERO_ADDRESS], deployer, params)
    record("deploy KyosoTimelock", timelock.tx)
    governor = COUNTING_MODES[settings.counting].deploy(
        points,
        timelock,
        settings.voting_delay_s,
        settings.voting_period_s,
        settings.proposal_threshold,
        settings.quorum_percent,
        params,
    )
    record(f"deploy {governor._name}", governor.tx)
    record("points.setSnapshotRegistrar", points.setSnapshotRegistrar(governor, params))
    record("timelock.grant PROPOSER", timelock.grantRole(timelock.PROPOSER_ROLE(), governor, params))
    record("timelock.grant CANCELLER", timelock.grantRole(timelock.CANCELLER_ROLE(), governor, params))
    record("badges.grant REGISTRAR", badges.grantRole(badges.REGISTRAR_ROLE(), registrar, params))
    admin_role = badges.DEFAULT_ADMIN_ROLE()
    record("badges.grant admin to timelock", badges.grantRole(admin_role, timelock, params))
    record("badges.renounce admin", badges.renounceRole(admin_role, deployer, params))
    record("points.transferOwnership", points.transferOwnership(timelock, params))
    record("timelock.renounce admin", timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer, params))
    return Suite(badges=badges, points=points, timelock=timelock, governor=governor, transactions=txs)
