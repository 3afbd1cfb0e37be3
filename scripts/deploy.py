"""Deploys the Kyoso contracts and records them in deployments/<chain-id>.json, which the backend reads.

    brownie run scripts/deploy.py --network kyoso-dev

A second run finds the registry and the code on chain and deploys nothing. The contract suite itself arrives
with the contracts issue; until then the registry lists no contracts.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from brownie import accounts, chain, network, web3

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS_DIR = Path(os.environ.get("KYOSO_DEPLOYMENTS_DIR", ROOT / "deployments"))


def _registry_is_live(registry: dict) -> bool:
    """True when every contract in the registry still has code on this chain (a fresh chain has none)."""
    return all(web3.eth.get_code(entry["address"]) not in (b"", None) for entry in registry["contracts"].values())


def main() -> None:
    path = DEPLOYMENTS_DIR / f"{chain.id}.json"
    if path.exists():
        registry = json.loads(path.read_text())
        if registry.get("chain_id") == chain.id and _registry_is_live(registry):
            print(f"Kyoso is already deployed on chain {chain.id} ({path}); nothing to do.")
            return
    deployer = accounts[0]
    registry = {
        "chain_id": chain.id,
        "network": network.show_active(),
        "deployer": deployer.address,
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "contracts": {},
    }
    DEPLOYMENTS_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(registry, indent=2) + "\n")
    print(f"Deployment registry written: {path} ({len(registry['contracts'])} contracts)")
