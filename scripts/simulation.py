"""A deployment rehearsed on a local fork of the target network before anything is sent (as `forge script` does):
the same transactions, from the same deployer, against the network's real state and base fee. It gives the gas of
every step (the dry run prints them) and the ETH the deployer must hold; nothing reaches the real network.
"""

from __future__ import annotations

import contextlib
import io
import socket
import warnings
from dataclasses import dataclass, replace

from brownie import accounts, network, web3
from brownie._config import CONFIG

from scripts.deploy_target import Target
from scripts.kyoso_suite import deploy_suite
from scripts.suite import GAS_BUFFER, GovernanceSettings

FORK_NETWORK = "kyoso-fork-simulation"
SIMULATION_BALANCE = 10**24  # on the fork only: the rehearsal must not depend on the deployer's real balance


@dataclass(frozen=True)
class Estimate:
    steps: list[tuple[str, int]]  # (step, gas used)
    base_fee: int
    priority_fee: int

    @property
    def gas(self) -> int:
        return sum(gas for _step, gas in self.steps)

    @property
    def expected_cost(self) -> int:
        return self.gas * (self.base_fee + self.priority_fee)

    @property
    def required_balance(self) -> int:
        """What the node wants to see: each transaction's gas limit (estimate plus margin) at the fee cap."""
        return int(self.gas * GAS_BUFFER) * (2 * self.base_fee + self.priority_fee)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def simulate(tgt: Target, deployer, registrar: str, settings: GovernanceSettings) -> Estimate:
    """Deploys on a fork of the connected network and reconnects to it; brownie's chatter is kept off the screen."""
    from tools.brownie_settings import apply_gas_policy

    url = web3.provider.endpoint_uri
    base_fee = web3.eth.get_block("latest").get("baseFeePerGas", 0)
    key = getattr(deployer, "private_key", None)
    network.disconnect(kill_rpc=False)
    CONFIG.networks[FORK_NETWORK] = {
        "id": FORK_NETWORK, "cmd": "anvil --enable-tx-gas-limit", "host": "http://127.0.0.1",
        "cmd_settings": {"port": _free_port(), "fork": url, "chain_id": tgt.chain_id, "accounts": 10},
    }
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # brownie's own deprecation notices about its internals
            network.connect(FORK_NETWORK)
            apply_gas_policy()
            account = accounts.add(key) if key else accounts.at(deployer.address, force=True)
            web3.provider.make_request("anvil_setBalance", [account.address, hex(SIMULATION_BALANCE)])
            suite = deploy_suite(account, registrar, settings, replace(tgt.tx_policy(), confirmations=1))
            steps = [(step, web3.eth.get_transaction_receipt(tx)["gasUsed"]) for step, tx in suite.transactions.items()]
    finally:
        if network.is_connected():
            network.disconnect(kill_rpc=True)
        del CONFIG.networks[FORK_NETWORK]
        network.connect(tgt.network)
        apply_gas_policy(live=tgt.live)
    return Estimate(steps=steps, base_fee=base_fee, priority_fee=tgt.priority_fee_wei)
