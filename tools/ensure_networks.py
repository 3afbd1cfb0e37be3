"""Adds or updates the project's brownie networks (tools/networks.yaml) in ~/.brownie/network-config.yaml.

Brownie 1.22's compiled config loader rejects `networks:` overrides in brownie-config.yaml, so a project network
has to be registered with `brownie networks add`. That file lives in the user's home and is missing on a fresh
machine, so `make setup` runs this every time: it reads the file directly (fast, no brownie start-up) and calls
the brownie CLI only when a network is missing or differs. Live networks keep only what brownie knows of them (host,
chain id, explorer); their fee and confirmation settings are read from tools/networks.yaml by scripts/deploy.py.
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
LIVE_ENVIRONMENT = "Kyoso testnets"  # the heading `brownie networks list` shows them under
LIVE_KEYS = ("host", "chainid", "explorer")


def wanted() -> dict[str, dict[str, dict]]:
    return yaml.safe_load(WANTED_FILE.read_text())


def _installed() -> dict[str, dict]:
    if not BROWNIE_NETWORKS.exists():
        # brownie writes its default network config on first start
        subprocess.run([*BROWNIE, "networks", "list"], check=True, capture_output=True, cwd=ROOT)
    config = yaml.safe_load(BROWNIE_NETWORKS.read_text()) or {}
    nets = {net["id"]: net for net in config.get("development", [])}
    for environment in config.get("live", []):
        nets.update({net["id"]: net for net in environment.get("networks", [])})
    return nets


def _development(net_id: str, net: dict) -> tuple[dict, list[str]]:
    settings = {k: v for k, v in net.items() if k not in ("cmd", "host")}
    want = {"cmd": net["cmd"], "host": net["host"], "cmd_settings": settings, "id": net_id}
    return want, ["development", net_id, *(f"{key}={value}" for key, value in net.items())]


def _live(net_id: str, net: dict) -> tuple[dict, list[str]]:
    want = {"id": net_id, "name": net["name"], **{k: str(net[k]) for k in LIVE_KEYS}}
    return want, [LIVE_ENVIRONMENT, net_id, f"name={net['name']}", *(f"{k}={net[k]}" for k in LIVE_KEYS)]


def main() -> int:
    installed = _installed()
    for section, describe in (("development", _development), ("live", _live)):
        for net_id, net in wanted()[section].items():
            want, add_args = describe(net_id, net)
            have = installed.get(net_id)
            if have is not None and all(str(have.get(k)) == str(v) if not isinstance(v, dict) else have.get(k) == v
                                        for k, v in want.items()):
                continue
            if have is not None:
                subprocess.run([*BROWNIE, "networks", "delete", net_id], check=True, capture_output=True, cwd=ROOT)
            result = subprocess.run([*BROWNIE, "networks", "add", *add_args], capture_output=True, text=True,
                                    cwd=ROOT)
            if result.returncode != 0:
                print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
                return result.returncode
            print(f"brownie network '{net_id}' {'updated' if have else 'added'} in {BROWNIE_NETWORKS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
