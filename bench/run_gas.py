"""`make bench-gas`: bench/gas.py on an Anvil of its own (a free port, `make run`'s settings), so the benchmark never
shares a chain with `make run` (8545) or with the tests' brownie network (8546)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import ROOT, Chain  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="where to write the figures (default bench/results/gas.json)")
    args = parser.parse_args(argv)
    out = ["--", str(args.out.resolve())] if args.out else []
    chain = Chain()
    try:
        return subprocess.run([sys.executable, "tools/brownie_run.py", "bench/gas.py", "--network", "kyoso-dev",
                               "--port", str(chain.port), *out], cwd=ROOT).returncode
    finally:
        chain.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
