"""`make slither`: runs Slither over contracts/ and fails on any finding not triaged in slither.triage.json.

1. Writes a solc standard-JSON input (in a temporary folder): every .sol file under the brownie contracts
   folder, with brownie-config.yaml's remappings, optimizer and EVM version, so Slither analyses what
   `brownie compile` builds.
2. Runs Slither (its own environment, .venv-slither) on it with slither.config.json; the project's solc-js
   adapter (.solcx/solc-v<version>) compiles it, so no compiler is downloaded.
3. Compares the findings with slither.triage.json, where each accepted finding is named by detector, file and
   Contract.function, with its reason (docs/slither.md explains each one). Exits 1 if a finding is not listed
   there, or if an entry no longer matches any finding (the code it excused changed: delete the entry).

Why not Slither's brownie platform (`slither . --compile-force-framework brownie`): it reads brownie's
build/contracts/*.json, one artifact per contract, so a file that declares no contract (OpenZeppelin 5's
re-export files such as interfaces/IERC165.sol) has no AST there, and Slither stops with "... does not exist".

Usage: python tools/slither_check.py SLITHER SOLC   (the Makefile passes .venv-slither/bin/slither and the adapter)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "slither.config.json"
TRIAGE = ROOT / "slither.triage.json"

# What crytic-compile reads from solc's output (it requires bytecode and source maps besides the ASTs).
OUTPUT_SELECTION = {
    "*": {
        "*": [
            "abi",
            "devdoc",
            "userdoc",
            "evm.bytecode.object",
            "evm.bytecode.sourceMap",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.sourceMap",
        ],
        "": ["ast"],
    }
}


def standard_json_input() -> dict:
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())
    contracts_dir = (config.get("project_structure") or {}).get("contracts", "contracts")
    compiler = config.get("compiler") or {}
    solc = compiler.get("solc") or {}
    optimizer = solc.get("optimizer") or {}
    sources = {
        path.relative_to(ROOT).as_posix(): {"content": path.read_text()}
        for path in sorted((ROOT / contracts_dir).rglob("*.sol"))
    }
    if not sources:
        sys.exit(f"slither: no .sol files under {contracts_dir}/")
    settings: dict = {
        "remappings": list(solc.get("remappings") or []),
        "optimizer": {"enabled": bool(optimizer.get("enabled")), "runs": int(optimizer.get("runs", 200))},
        "outputSelection": OUTPUT_SELECTION,
    }
    if compiler.get("evm_version"):
        settings["evmVersion"] = compiler["evm_version"]
    return {"language": "Solidity", "sources": sources, "settings": settings}


def location(finding: dict) -> str:
    """Where a finding is, by its first element: Contract.function for a function or for a local variable or
    parameter (its function), Contract.variable for a state variable, the name for a contract."""
    if not finding["elements"]:
        return "?"
    element = finding["elements"][0]
    parent = element.get("type_specific_fields", {}).get("parent", {})
    if element["type"] == "function":
        return f"{parent.get('name', '?')}.{element['name']}"
    if parent.get("type") == "function":
        contract = parent.get("type_specific_fields", {}).get("parent", {}).get("name", "?")
        return f"{contract}.{parent['name']}"
    if parent.get("type") == "contract":
        return f"{parent['name']}.{element['name']}"
    return element["name"]


def run_slither(slither: str, solc: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "slither-input.json"
        target.write_text(json.dumps(standard_json_input()))
        report = Path(scratch) / "slither.json"
        result = subprocess.run(
            [slither, str(target), "--config-file", CONFIG.name, "--solc", solc, "--json", str(report)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        output = json.loads(report.read_text()) if report.exists() else {}
    if not output.get("success"):
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"slither: the analysis did not run: {output.get('error') or 'exit status %d' % result.returncode}")
    return output.get("results", {}).get("detectors", [])


def main(argv: list[str]) -> int:
    slither, solc = argv
    findings = run_slither(slither, solc)

    entries = json.loads(TRIAGE.read_text())["accepted"]
    used = [0] * len(entries)
    new = []
    for finding in findings:
        first = finding["elements"][0] if finding["elements"] else {}
        key = (finding["check"], first.get("source_mapping", {}).get("filename_relative"), location(finding))
        matches = [i for i, e in enumerate(entries) if (e["detector"], e["path"], e["function"]) == key]
        for i in matches:
            used[i] += 1
        if not matches:
            new.append(finding)

    stale = [e for e, n in zip(entries, used) if n == 0]
    for finding in new:
        print(f"[{finding['check']} | {finding['impact']} | {location(finding)}]\n{finding['description'].rstrip()}\n")
    for entry in stale:
        print(
            f"stale entry in {TRIAGE.name}: {entry['detector']} {entry['path']} {entry['function']}"
            " matches no finding any more; delete it (and its row in docs/slither.md)"
        )
    print(
        f"slither: {len(findings)} finding(s), {len(findings) - len(new)} triaged in {TRIAGE.name}"
        f" (docs/slither.md), {len(new)} new, {len(stale)} stale triage entr{'y' if len(stale) == 1 else 'ies'}"
    )
    if new:
        print(
            "Fix each new finding, or, if it is a false positive or an accepted design choice, add it to "
            f"{TRIAGE.name} with its reason and explain it in docs/slither.md."
        )
    return 1 if new or stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
