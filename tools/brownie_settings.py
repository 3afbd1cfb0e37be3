"""Transaction gas policy for brownie on the project's networks, applied after connecting (tests, scripts, benches).

Public networks cap one transaction at 16,777,216 gas (EIP-7825) and the project's Anvil enforces the cap; brownie's
development defaults ("max": the 30M block limit) would exceed it. So transactions are estimated, with a margin as any
wallet adds (Anvil's estimate can fall short when storage is cleared and refunded), and a transaction that fails
estimation is still sent under the cap, so that brownie reports its revert reason.
"""

from __future__ import annotations

GAS_BUFFER = 1.25
REVERTING_TX_GAS_LIMIT = 13_000_000  # brownie multiplies it by GAS_BUFFER: 16.25M, under the cap


def apply_gas_policy(live: bool = False) -> None:
    """On a live network a transaction that fails estimation is never sent (it would only burn fees)."""
    from brownie import network
    from brownie._config import CONFIG

    if not network.is_connected():
        return
    network.gas_limit("auto")
    settings = CONFIG.active_network["settings"]
    settings["gas_buffer"] = GAS_BUFFER
    settings["reverting_tx_gas_limit"] = False if live else REVERTING_TX_GAS_LIMIT
