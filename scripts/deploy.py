"""Deploys the Kyoso suite and records it in deployments/<chain-id>.json, which the backend reads.

    python tools/brownie_run.py scripts/deploy.py --network kyoso-dev     (what `make run` does)
    brownie run scripts/deploy.py --network kyoso-dev                     (checkouts whose path has no '.')

A second run finds the registry and the code on chain and deploys nothing. On development networks the registrar
(the account that creates organizations for the backend) is dev account 1; elsewhere KYOSO_REGISTRAR names it.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from brownie import accounts, chain, network, web3
from brownie._config import CONFIG

from scripts.kyoso_suite import GovernanceSettings, deploy_suite

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS_DIR = Path(os.environ.get("KYOSO_DEPLOYMENTS_DIR", ROOT / "deployments"))


def _registry_is_live(registry: dict) -> bool:
    """True when every contract in the registry still has code on this chain (a fresh chain has none)."""
    contracts = registry.get("contracts", {})
    return bool(contracts) and all(len(web3.eth.get_code(entry["address"])) > 0 for entry in contracts.values())


def _abi_hash(contract) -> str:
    return "0x" + hashlib.sha256(json.dumps(contract.abi, sort_keys=True).encode()).hexdigest()


def main() -> None:
    path = DEPLOYMENTS_DIR / f"{chain.id}.json"
    if path.exists():
        registry = json.loads(path.read_text())
        if registry.get("chain_id") == chain.id and _registry_is_live(registry):
            print(f"Kyoso is already deployed on chain {chain.id} ({path}); nothing to do.")
            return
    deployer = accounts[0]
    registrar = os.environ.get("KYOSO_REGISTRAR") or accounts[1].address
    # On the local chain (`make run`) a proposal opens for voting a minute after it is made, so that the demo can be
    # tried at once; everywhere else the defaults hold (an hour, time for members to notice a new proposal).
    settings = GovernanceSettings(voting_delay_s=60) if chain.id == 31337 else GovernanceSettings()
    suite = deploy_suite(deployer, registrar, settings)
    compiler = CONFIG.settings["compiler"]["solc"]
    registry = {
        "chain_id": chain.id,
        "network": network.show_active(),
        "deployer": deployer.address,
        "registrar": registrar,
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "governance": settings.__dict__,
        "compiler": {
            "solc": compiler["version"],
            "optimizer": compiler["optimizer"],
            "evm_version": CONFIG.settings["compiler"]["evm_version"],
            "remappings": compiler["remappings"],
        },
        "contracts": {
            name: {
                "address": contract.address,
                "contract": contract._name,
                "block": contract.tx.block_number,
                "transaction": contract.tx.txid,
                "abi_sha256": _abi_hash(contract),
            }
            for name, contract in suite.contracts().items()
        },
        "transactions": suite.transactions,
    }
    DEPLOYMENTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
    width = max(map(len, registry["contracts"]))
    print(f"\nKyoso deployed on chain {chain.id}:")
    for name, entry in registry["contracts"].items():
        print(f"  {name:<{width}}  {entry['address']}  (block {entry['block']})")
    print(f"Deployment registry written: {path}")
