"""The Kyoso contract suite: its governance settings, and the one deployer that deploys and wires it with plain web3
from the compiled artifacts (build/contracts/*.json).

scripts/deploy.py, the brownie tests and the gas benchmark reach it through scripts/kyoso_suite.py (brownie's own
connection, brownie contract objects back); the end-to-end benchmarks and the tests on an Anvil of their own call it
directly (`deploy_registry`).

Wiring, in order (the deployer holds no power at the end):
1. ParticipationBadges, administered by the deployer for now;
2. ParticipationPoints, minted only by the badge contract, owned by the deployer for now;
3. the badge contract is pointed at the points ledger (once);
4. KyosoTimelock with the deployer as temporary admin, anyone as executor;
5. the governor (simple or quadratic counting), which the points ledger accepts snapshots from;
6. the governor becomes the timelock's proposer and canceller; the registrar may create organizations;
7. the issuing limits, when the settings give them (otherwise the contract's default: no limit), and the guardian,
   when there is one: it may suspend organizations on the badge contract and cancel the timelock's queued operations;
8. the timelock becomes admin of the badge contract and owner of the points ledger; the deployer renounces all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

BUILD = Path(__file__).resolve().parent.parent / "build" / "contracts"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
COUNTING_MODES = {"simple": "KyosoGovernor", "quadratic": "KyosoQuadraticGovernor"}  # counting -> artifact
# Anvil's development account 0 (mnemonic "test test ... junk"), brownie's accounts[0] on the local chain: the
# deployer wherever a test or a benchmark deploys to an Anvil of its own.
ANVIL_DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
# The estimate plus the margin any wallet adds (Anvil's estimate can fall short when storage is cleared and
# refunded); scripts/simulation.py budgets the deployer's balance with it.
GAS_BUFFER = 1.25
EIP7825_TX_GAS_CAP = 16_777_216  # public networks refuse a transaction above it; the project's Anvil too

# A key held in this process, or the address of an account the node holds unlocked (Anvil's own, or one
# impersonated on a fork).
Signer = LocalAccount | str


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
    # What an organization may issue (ParticipationBadges, IIssuingLimits). None leaves the contract's default, no
    # limit, which the tests and benchmarks rely on; the deploy config sets real ones.
    max_event_points: int | None = None  # most points an event may be worth
    points_allowance: int | None = None  # points an organization may issue per period (the default allowance)
    allowance_period_s: int = 30 * 24 * 60 * 60  # length of that period: 1 hour to 366 days
    guardian: str | None = None  # may suspend organizations and cancel queued timelock operations (a city's multisig)


@dataclass(frozen=True)
class TxPolicy:
    """How every deployment transaction is sent: EIP-1559 with a fee cap of twice the latest base fee plus the tip,
    and followed until `confirmations` blocks hold it before the next step relies on it."""

    priority_fee_wei: int = 0
    confirmations: int = 1
    receipt_timeout_s: float = 600.0


@dataclass(frozen=True)
class DeployedContract:
    artifact: str  # its build/contracts name: KyosoQuadraticGovernor for the quadratic governor
    address: str
    transaction: str  # the creation transaction's hash
    block: int
    constructor_arguments: str  # ABI-encoded, hex without 0x: what a block explorer asks for to verify the source


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    # by registry name: ParticipationBadges, ParticipationPoints, KyosoTimelock, KyosoGovernor (in either counting)
    contracts: dict[str, DeployedContract]
    transactions: dict[str, str] = field(default_factory=dict)  # step -> transaction hash, in the order sent

    @property
    def block(self) -> int:
        """The block of the first deployment transaction: nothing of the suite happened before it."""
        return min(entry.block for entry in self.contracts.values())

    def registry(self) -> dict:
        """What the backend reads from deployments/<chain-id>.json (scripts/deploy.py adds the rest)."""
        return {"chain_id": self.chain_id, "contracts": {
            name: {"address": entry.address, "contract": entry.artifact, "block": entry.block}
            for name, entry in self.contracts.items()}}


class DeploymentError(RuntimeError):
    """A deployment transaction reverted."""


def artifact(name: str) -> dict:
    return json.loads((BUILD / f"{name}.json").read_text())


class _Sender:
    """Sends one transaction at a time from the signer and waits for it, so that each step sees the previous one."""

    def __init__(self, w3: Web3, signer: Signer, policy: TxPolicy):
        self.w3, self.policy = w3, policy
        self.account = None if isinstance(signer, str) else signer
        self.address = Web3.to_checksum_address(signer if isinstance(signer, str) else signer.address)
        self.chain_id = w3.eth.chain_id
        self.nonce = w3.eth.get_transaction_count(self.address, "pending")

    def send(self, step: str, tx: dict):
        tip = self.policy.priority_fee_wei
        base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas", 0)
        tx = {**tx, "from": self.address, "nonce": self.nonce, "chainId": self.chain_id,
              "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base_fee + tip}
        tx["gas"] = min(int(self.w3.eth.estimate_gas(tx) * GAS_BUFFER), EIP7825_TX_GAS_CAP)
        if self.account is not None:
            tx_hash = self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)
        else:
            tx_hash = self.w3.eth.send_transaction(tx)
        self.nonce += 1
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.policy.receipt_timeout_s)
        if receipt["status"] != 1:
            raise DeploymentError(f"{step} reverted (transaction {tx_hash.to_0x_hex()})")
        deadline = time.monotonic() + self.policy.receipt_timeout_s
        while self.w3.eth.block_number < receipt["blockNumber"] + self.policy.confirmations - 1:
            if time.monotonic() > deadline:
                raise DeploymentError(f"{step}: {self.policy.confirmations} confirmations not reached in time")
            time.sleep(0.5)
        return receipt


def deploy_suite(w3: Web3, signer: Signer, registrar: str, settings: GovernanceSettings,
                 policy: TxPolicy | None = None) -> Deployment:
    """Deploys every contract, wires every role, and leaves the signer with none."""
    if settings.counting not in COUNTING_MODES:
        raise ValueError(f"counting must be one of {sorted(COUNTING_MODES)}, not {settings.counting!r}")
    if settings.guardian and not Web3.is_address(settings.guardian):
        raise ValueError(f"guardian must be an address, not {settings.guardian!r}")
    sender = _Sender(w3, signer, policy or TxPolicy())
    deployer, registrar = sender.address, Web3.to_checksum_address(registrar)
    deployed: dict[str, DeployedContract] = {}
    txs: dict[str, str] = {}

    def deploy(registry_name: str, artifact_name: str, *args):
        build = artifact(artifact_name)
        data = w3.eth.contract(abi=build["abi"], bytecode=build["bytecode"]).constructor(*args).data_in_transaction
        step = f"deploy {artifact_name}"
        receipt = sender.send(step, {"data": data})
        txs[step] = receipt["transactionHash"].to_0x_hex()
        deployed[registry_name] = DeployedContract(
            artifact=artifact_name, address=receipt["contractAddress"], transaction=txs[step],
            block=receipt["blockNumber"],
            constructor_arguments=data.removeprefix("0x")[len(build["bytecode"].removeprefix("0x")):])
        return w3.eth.contract(address=receipt["contractAddress"], abi=build["abi"])

    def call(step: str, contract, function: str, *args) -> None:
        receipt = sender.send(step, {"to": contract.address, "data": contract.encode_abi(function, args=list(args))})
        txs[step] = receipt["transactionHash"].to_0x_hex()

    badges = deploy("ParticipationBadges", "ParticipationBadges", deployer, settings.default_uri)
    points = deploy("ParticipationPoints", "ParticipationPoints", settings.points_name, settings.points_symbol,
                    badges.address, deployer)
    call("badges.setPointsLedger", badges, "setPointsLedger", points.address)
    timelock = deploy("KyosoTimelock", "KyosoTimelock", settings.timelock_delay_s, [], [ZERO_ADDRESS], deployer)
    governor = deploy("KyosoGovernor", COUNTING_MODES[settings.counting], points.address, timelock.address,
                      settings.voting_delay_s, settings.voting_period_s, settings.proposal_threshold,
                      settings.quorum_percent)
    call("points.setSnapshotRegistrar", points, "setSnapshotRegistrar", governor.address)
    call("timelock.grant PROPOSER", timelock, "grantRole", timelock.functions.PROPOSER_ROLE().call(), governor.address)
    call("timelock.grant CANCELLER", timelock, "grantRole", timelock.functions.CANCELLER_ROLE().call(),
         governor.address)
    call("badges.grant REGISTRAR", badges, "grantRole", badges.functions.REGISTRAR_ROLE().call(), registrar)
    if settings.max_event_points is not None:
        call("badges.setMaxEventPoints", badges, "setMaxEventPoints", settings.max_event_points)
    if settings.points_allowance is not None:
        call("badges.setDefaultAllowance", badges, "setDefaultAllowance", settings.points_allowance)
    if settings.allowance_period_s != badges.functions.issuingLimits().call()[2]:
        call("badges.setAllowancePeriod", badges, "setAllowancePeriod", settings.allowance_period_s)
    if settings.guardian:
        guardian = Web3.to_checksum_address(settings.guardian)
        call("badges.grant GUARDIAN", badges, "grantRole", badges.functions.GUARDIAN_ROLE().call(), guardian)
        call("timelock.grant CANCELLER to guardian", timelock, "grantRole",
             timelock.functions.CANCELLER_ROLE().call(), guardian)
    admin_role = badges.functions.DEFAULT_ADMIN_ROLE().call()
    call("badges.grant admin to timelock", badges, "grantRole", admin_role, timelock.address)
    call("badges.renounce admin", badges, "renounceRole", admin_role, deployer)
    call("points.transferOwnership", points, "transferOwnership", timelock.address)
    call("timelock.renounce admin", timelock, "renounceRole", timelock.functions.DEFAULT_ADMIN_ROLE().call(),
         deployer)
    return Deployment(chain_id=sender.chain_id, contracts=deployed, transactions=txs)


def deploy_registry(w3: Web3, registrar: str, settings: GovernanceSettings | None = None) -> dict:
    """The suite on an Anvil of a test's or a benchmark's own, deployed by Anvil's development account 0; returns the
    registry dict to write as deployments/<chain-id>.json."""
    return deploy_suite(w3, Account.from_key(ANVIL_DEV_KEY_0), registrar, settings or GovernanceSettings()).registry()
