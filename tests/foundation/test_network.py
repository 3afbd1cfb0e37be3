"""The network the tests run on is the project's Anvil, with the settings public networks impose."""

from __future__ import annotations

import pytest
from brownie import accounts, chain, network, web3

EIP7825_TX_GAS_CAP = 16_777_216


def test_active_network_is_the_projects_anvil():
    assert network.show_active() == "kyoso-test"
    assert web3.client_version.startswith("anvil/v1.7"), web3.client_version


def test_chain_id_is_31337():
    assert web3.eth.chain_id == chain.id == 31337


def test_block_gas_limit_is_30_million():
    assert web3.eth.get_block("latest").gasLimit == 30_000_000


def test_ten_funded_dev_accounts():
    # Brownie's list also holds the local keys that earlier test modules added, and the node's lists the contracts
    # they impersonated (the timelock, tests/contracts/test_issuing_limits.py, which a chain reset may have removed
    # since): the node's own ten come first.
    # imported here: brownie hashes the modules a test module imports at its top, and reads brownie._config, a
    # compiled extension inside the project's .venv, as text (UnicodeDecodeError on a fresh clone)
    from brownie._config import CONFIG

    assert CONFIG.active_network["cmd_settings"]["accounts"] == 10  # what Anvil was started with
    dev = web3.eth.accounts[:10]
    assert len(dev) == 10 and [account.address for account in accounts[:10]] == dev
    assert all(web3.eth.get_balance(address) > 0 for address in dev)


def test_transaction_at_the_eip7825_cap_is_accepted():
    tx = accounts[0].transfer(accounts[1], 1, gas_limit=EIP7825_TX_GAS_CAP)
    assert tx.status == 1


def test_transaction_above_the_eip7825_cap_is_refused():
    with pytest.raises(ValueError, match="tx_gas_limit_cap"):
        accounts[0].transfer(accounts[1], 1, gas_limit=EIP7825_TX_GAS_CAP + 1)
