"""The deployed contracts as web3 objects: addresses from the deployment registry, ABIs from the compiled build."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from backend.platform.deployments import Deployment

BUILD_DIR = Path(__file__).resolve().parents[3] / "build" / "contracts"


class AbiMissing(RuntimeError):
    pass


@lru_cache
def abi(name: str) -> list:
    path = BUILD_DIR / f"{name}.json"
    if not path.exists():
        raise AbiMissing(f"{path} is missing: compile the contracts first (brownie compile, or make run)")
    return json.loads(path.read_text())["abi"]


@dataclass(frozen=True)
class Contracts:
    badges: Contract
    points: Contract
    governor: Contract
    timelock: Contract
    deployment_block: int


def bind(w3: Web3, deployment: Deployment) -> Contracts:
    entries = deployment.raw["contracts"]

    def at(name: str, abi_name: str | None = None) -> Contract:
        return w3.eth.contract(address=entries[name]["address"], abi=abi(abi_name or entries[name].get("contract", name)))

    return Contracts(
        badges=at("ParticipationBadges"),
        points=at("ParticipationPoints"),
        governor=at("KyosoGovernor"),
        timelock=at("KyosoTimelock"),
        deployment_block=min(entry.get("block", 0) or 0 for entry in entries.values()),
    )
