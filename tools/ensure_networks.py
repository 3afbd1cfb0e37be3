"""Adds or updates the project's brownie networks (tools/networks.yaml) in ~/.brownie/network-config.yaml.

Brownie 1.22's compiled config loader rejects `networks:` overrides in brownie-config.yaml, so a project network
has to be registered with `brownie networks add`. That file lives in the user's home and is missing on a fresh
machine, so `make setup` runs this every time: it reads the file directly (fast, no brownie start-up) and calls
the brownie CLI only when a network is missing or differs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WANTED_FILE = ROOT / "tools" / "networks.yaml"
BROWNIE_NETWORKS = Path.home() / ".brownie" / "network-config.yaml"
BROWNIE = [str(Path(sys.executable).parent / "brownie")]


def _installed() -> dict[str, dict]:
    if not BROWNIE_NETWORKS.exists():
        # brownie writes its default network config on first start
        subprocess.run([*BROWNIE, "networks", "list"], check=True, capture_output=True, cwd=ROOT)
    config = yaml.safe_load(BROWNIE_NETWORKS.read_text()) or {}
    return {net["id"]: net for net in config.get("development", [])}


def _as_installed(net_id: str, wanted: dict) -> dict:
    settings = {k: v for k, v in wanted.items() if k not in ("cmd", "host")}
    return {"cmd": wanted["cmd"], "host": wanted["host"], "cmd_settings": settings, "id": net_id}


def main() -> int:
    wanted_all: dict[str, dict] = yaml.safe_load(WANTED_FILE.read_text())
    installed = _installed()
    for net_id, wanted in wanted_all.items():
        want = _as_installed(net_id, wanted)
        have = installed.get(net_id)
        if have is not None and all(have.get(k) == v for k, v in want.items()):
            continue
        if have is not None:
            subprocess.run([*BROWNIE, "networks", "delete", net_id], check=True, capture_output=True, cwd=ROOT)
        args = [f"{key}={value}" for key, value in wanted.items()]
        result = subprocess.run(
            [*BROWNIE, "networks", "add", "development", net_id, *args], capture_output=True, text=True, cwd=ROOT
        )
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
            return result.returncode
        print(f"brownie network '{net_id}' {'updated' if have else 'added'} in {BROWNIE_NETWORKS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
