"""Shared fixtures. Tests run through `make test`, which starts brownie's `kyoso-test` network (Anvil on 8546)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Public networks cap one transaction at 16,777,216 gas (EIP-7825) and the test Anvil enforces it; brownie's
# development defaults ("max": the 30M block limit) would exceed it, so transactions are estimated instead, and a
# transaction that reverts in estimation is still sent (under the cap) so that its revert reason is reported.
REVERTING_TX_GAS_LIMIT = 13_000_000  # brownie multiplies it by the gas buffer below


@pytest.fixture(scope="session", autouse=True)
def gas_within_the_eip7825_cap():
    from brownie import network
    from brownie._config import CONFIG

    if network.is_connected():
        network.gas_limit("auto")
        # Anvil's estimate can fall short when storage is cleared (refunds); a margin as any wallet adds
        CONFIG.active_network["settings"]["gas_buffer"] = 1.25
        CONFIG.active_network["settings"]["reverting_tx_gas_limit"] = REVERTING_TX_GAS_LIMIT


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
