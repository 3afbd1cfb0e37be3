"""Runs a brownie script as `brownie run <script> --network <id>` does, from any checkout path.

    python tools/brownie_run.py scripts/deploy.py --network kyoso-dev [--port 18545] [-- script args]

On a live network (tools/networks.yaml) a missing RPC URL, a node that does not answer or a node of another chain
is one line of error, before the script runs; so is a script's own SystemExit message.

Why not `brownie run` itself: brownie 1.22 imports a script under a dotted module name built from its absolute
path (`/tmp/tmp.x1/kyoso/scripts/deploy.py` -> `tmp.tmp.x1.kyoso.scripts.deploy`), so every checkout whose path
has a '.' in any folder name fails with "No module named ...". This runner loads the script by file location.
`--port` points a development network at an Anvil on another port (brownie keeps ports in
~/.brownie/network-config.yaml, one per network), so that `make run` on moved ports deploys to its own chain.
`brownie run` still works for checkouts whose path has no dot.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's own modules (tools/, scripts/) for the script to import


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--network", required=True)
    parser.add_argument("--port", type=int, help="port of an already running development chain to attach to")
    parser.add_argument("--method", default="main")
    # everything after `--` goes to the script as it is (argparse would read its options as the runner's)
    script_args = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.script_args = script_args

    from brownie import network, project
    from web3 import Web3
    from brownie._config import CONFIG

    kyoso = project.load(ROOT, name="Kyoso")
    if args.network not in CONFIG.networks:
        print(f"Error: unknown network {args.network!r} (make setup registers the project's networks from "
              "tools/networks.yaml)", file=sys.stderr)
        return 1
    live = "cmd" not in CONFIG.networks[args.network]
    if live:
        problem = _live_network_problem(args.network, CONFIG.networks[args.network])
        if problem:
            print(f"Error: {problem}", file=sys.stderr)
            return 1
        # Brownie keeps its own record of live deployments in build/deployments/ and refuses to connect when one no
        # longer has code (a testnet that was reset, a local stand-in). The project's record is deployments/<chain-id>.json.
        shutil.rmtree(ROOT / "build" / "deployments", ignore_errors=True)
        (ROOT / "build" / "deployments").mkdir(parents=True)
    if args.port is not None:
        CONFIG.networks[args.network]["cmd_settings"]["port"] = args.port
        # The chain must already be running there: brownie would otherwise launch an Anvil of its own.
        host = CONFIG.networks[args.network]["host"]
        if not Web3(Web3.HTTPProvider(f"{host}:{args.port}")).is_connected():
            print(f"No chain answers at {host}:{args.port} (network {args.network})", file=sys.stderr)
            return 1
    network.connect(args.network)  # attaches to the running chain
    from tools.brownie_settings import apply_gas_policy

    if live:
        expected, actual = int(CONFIG.networks[args.network]["chainid"]), network.web3.eth.chain_id
        if actual != expected:
            variables = ", ".join(_host_variables(CONFIG.networks[args.network]["host"]))
            print(f"Error: the node at {variables} is chain {actual}, but {args.network} is chain {expected}: "
                  "check the RPC URL", file=sys.stderr)
            network.disconnect(kill_rpc=False)
            return 1
    apply_gas_policy(live=live)
    kyoso._add_to_main_namespace()  # lets the script `from brownie import <ContractName>`, as under `brownie run`
    try:
        script = (ROOT / args.script).resolve()
        spec = importlib.util.spec_from_file_location(f"kyoso_scripts.{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\nRunning '{args.script}::{args.method}' on {network.show_active()}...")
        getattr(module, args.method)(*args.script_args)
    except SystemExit as exc:  # a script's clear error message (e.g. scripts/deploy.py's DeployError)
        if exc.code not in (None, 0):
            print(exc.code if isinstance(exc.code, str) else f"exit {exc.code}", file=sys.stderr)
            return 1
    finally:
        network.disconnect(kill_rpc=False)
    return 0


def _host_variables(host: str) -> list[str]:
    return re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", host)


def _live_network_problem(net_id: str, net: dict) -> str | None:
    """Before connecting to a live network: is its RPC URL there? (The URL itself is never printed: it often holds
    an API key.)"""
    variables = _host_variables(net["host"])
    missing = [name for name in variables if not os.environ.get(name)]
    if missing:
        return (f"{missing[0]} is not set: it is the RPC URL of {net.get('name', net_id)} ({net_id}); "
                f"export {missing[0]}=https://... (docs/deploy.md)")
    from web3 import Web3

    if not Web3(Web3.HTTPProvider(os.path.expandvars(net["host"]), request_kwargs={"timeout": 15})).is_connected():
        return f"no node answers at the RPC URL in {', '.join(variables) or 'the host'} ({net_id}): check it"
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
