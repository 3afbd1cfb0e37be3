"""The deployment registry, `deployments/<chain-id>.json`, written by scripts/deploy.py.

The backend takes every contract address from here, for the chain it is connected to; none is hard-coded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_CONTRACTS = ("ParticipationBadges", "ParticipationPoints", "KyosoGovernor", "KyosoTimelock")


class RegistryError(RuntimeError):
    """The registry for a chain is missing or unreadable."""


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    contracts: dict[str, str] = field(default_factory=dict)  # name -> checksummed address
    raw: dict = field(default_factory=dict)


def registry_path(directory: Path, chain_id: int) -> Path:
    return directory / f"{chain_id}.json"


def load_deployment(directory: Path, chain_id: int) -> Deployment:
    path = registry_path(directory, chain_id)
    if not path.exists():
        raise RegistryError(
            f"No deployment registry for chain {chain_id} at {path}; "
            "deploy first: make deploy NETWORK=<network> (docs/deploy.md)"
        )
    try:
        raw = json.loads(path.read_text())
        contracts = {name: entry["address"] for name, entry in raw.get("contracts", {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RegistryError(f"Deployment registry {path} is not valid: {exc}") from exc
    if raw.get("chain_id") != chain_id:
        raise RegistryError(f"Deployment registry {path} is for chain {raw.get('chain_id')}, not {chain_id}")
    missing = [name for name in REQUIRED_CONTRACTS if name not in contracts]
    if missing:
        raise RegistryError(f"Deployment registry {path} has no entry for {', '.join(missing)}: deploy the whole "
                            f"suite again (make deploy NETWORK=<network> FRESH=1)")
    return Deployment(chain_id=chain_id, contracts=contracts, raw=raw)
