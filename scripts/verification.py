"""Source verification: the exact solc standard-JSON input each contract was compiled from, for block explorers
("Solidity (Standard-Json-Input)"), written beside the deployment registry.

Brownie's own `get_verification_info()` rewrites the import paths, which changes the metadata hash at the end of the
bytecode, so an explorer would find only a partial match. This rebuilds the input brownie gave the compiler: the same
source paths (node_modules/@openzeppelin/... through the project's remapping), the same settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from brownie.project.compiler import generate_input_json

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"


def compiler_settings() -> dict:
    """The project's compiler settings, from brownie-config.yaml (what `brownie compile` used)."""
    compiler = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["compiler"]
    return {"solc": compiler["solc"]["version"], "optimizer": compiler["solc"]["optimizer"],
            "evm_version": compiler["evm_version"], "remappings": compiler["solc"]["remappings"]}


def standard_json_input(contract_name: str) -> dict:
    build = json.loads((BUILD / f"{contract_name}.json").read_text())
    sources = {path: (ROOT / path).read_text() for path in sorted(set(build["allSourcePaths"].values()))}
    return generate_input_json(
        sources, optimize=build["compiler"]["optimizer"]["enabled"], runs=build["compiler"]["optimizer"]["runs"],
        evm_version=build["compiler"]["evm_version"], language="Solidity", remappings=compiler_settings()["remappings"],
    )


def verification_record(contract, constructor_args: str) -> dict:
    """What an explorer asks for: compiler, contract (path:name), constructor arguments, and the input."""
    build = json.loads((BUILD / f"{contract._name}.json").read_text())
    return {
        "contract": f"{build['sourcePath']}:{contract._name}",
        "address": contract.address,
        "compiler_version": f"v{build['compiler']['version']}",
        "constructor_arguments": constructor_args,
        "standard_json_input": standard_json_input(contract._name),
    }
