"""Deploys the Kyoso suite with plain web3 from the compiled artifacts, to an Anvil other than brownie's (e.g. one
with interval mining). Mirrors scripts/kyoso_suite.py's wiring; the deployer keeps no power."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from web3 import Web3

BUILD = Path(__file__).resolve().parents[2] / "build" / "contracts"
ANVIL_DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ZERO = "0x0000000000000000000000000000000000000000"


def _artifact(name: str) -> dict:
    return json.loads((BUILD / f"{name}.json").read_text())


def deploy_suite_web3(w3: Web3, registrar: str) -> dict:
    """Returns a deployment registry dict for the deployed suite."""
    deployer = Account.from_key(ANVIL_DEV_KEY_0)
    nonce = w3.eth.get_transaction_count(deployer.address)

    def send(tx: dict):
        nonlocal nonce
        tx = {**tx, "from": deployer.address, "nonce": nonce, "chainId": w3.eth.chain_id,
              "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"], "maxPriorityFeePerGas": 0}
        tx["gas"] = min(int(w3.eth.estimate_gas(tx) * 1.25), 16_000_000)
        nonce += 1
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction), timeout=60)
        assert receipt["status"] == 1
        return receipt

    def deploy(name: str, *args):
        art = _artifact(name)
        contract = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = send({"data": contract.constructor(*args).data_in_transaction})
        return w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"]), receipt["blockNumber"]

    def call(contract, fn: str, *args):
        send({"to": contract.address, "data": contract.encode_abi(fn, args=list(args))})

    badges, block = deploy("ParticipationBadges", deployer.address, "http://127.0.0.1:8000/metadata/{id}.json")
    points, _ = deploy("ParticipationPoints", "Kyoso Participation Points", "KYOSO", badges.address, deployer.address)
    call(badges, "setPointsLedger", points.address)
    timelock, _ = deploy("KyosoTimelock", 3600, [], [ZERO], deployer.address)
    governor, _ = deploy("KyosoGovernor", points.address, timelock.address, 3600, 7 * 86400, 10, 4)
    call(points, "setSnapshotRegistrar", governor.address)
    call(timelock, "grantRole", timelock.functions.PROPOSER_ROLE().call(), governor.address)
    call(timelock, "grantRole", timelock.functions.CANCELLER_ROLE().call(), governor.address)
    call(badges, "grantRole", badges.functions.REGISTRAR_ROLE().call(), registrar)
    call(badges, "grantRole", badges.functions.DEFAULT_ADMIN_ROLE().call(), timelock.address)
    call(badges, "renounceRole", badges.functions.DEFAULT_ADMIN_ROLE().call(), deployer.address)
    call(points, "transferOwnership", timelock.address)
    call(timelock, "renounceRole", timelock.functions.DEFAULT_ADMIN_ROLE().call(), deployer.address)
    contracts = {"ParticipationBadges": badges, "ParticipationPoints": points, "KyosoTimelock": timelock,
                 "KyosoGovernor": governor}
    return {"chain_id": w3.eth.chain_id, "contracts": {
        name: {"address": c.address, "contract": name, "block": block} for name, c in contracts.items()}}
