"""Runs a brownie script as `brownie run <script> --network <id>` does, from any checkout path.

    python tools/brownie_run.py scripts/deploy.py --network kyoso-dev [--port 18545] [-- script args]

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
    parser.add_argument("script_args", nargs="*")
    args = parser.parse_args(argv)

    from brownie import network, project
    from web3 import Web3
    from brownie._config import CONFIG

    kyoso = project.load(ROOT, name="Kyoso")
    if args.port is not None:
        CONFIG.networks[args.network]["cmd_settings"]["port"] = args.port
        # The chain must already be running there: brownie would otherwise launch an Anvil of its own.
        host = CONFIG.networks[args.network]["host"]
        if not Web3(Web3.HTTPProvider(f"{host}:{args.port}")).is_connected():
            print(f"No chain answers at {host}:{args.port} (network {args.network})", file=sys.stderr)
            return 1
    network.connect(args.network)  # attaches to the running chain
    if network.show_active() in ("kyoso-test", "kyoso-dev"):
        from tools.brownie_settings import apply_gas_policy

        apply_gas_policy()
    kyoso._add_to_main_namespace()  # lets the script `from brownie import <ContractName>`, as under `brownie run`
    try:
        script = (ROOT / args.script).resolve()
        spec = importlib.util.spec_from_file_location(f"kyoso_scripts.{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\nRunning '{args.script}::{args.method}' on {network.show_active()}...")
        getattr(module, args.method)(*args.script_args)
    finally:
        network.disconnect(kill_rpc=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
