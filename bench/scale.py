"""Scale-out: the same festival burst against one backend process on SQLite (as `make run`), two uvicorn worker
processes on SQLite, and two on PostgreSQL (a server of the run's own), one after the other in the same run.

    python bench/scale.py [--claims 3000] [--clients 100] [--configs 1:sqlite,2:sqlite,2:postgres]

Each configuration is bench/burst.py's batched mode (Anvil automine) on a stack of its own; one of the worker
processes holds the relayer's and the indexer's lease. Writes bench/results/scale.json: for each configuration
`<workers>_<database>_<figure>` with burst.py's figures (server CPU summed over the worker processes; PostgreSQL's own
CPU is not in it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.burst import burst  # noqa: E402
from bench.stack import finish, stop_on_signals  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="scale-out benchmark (docs/benchmarks.md)")
    parser.add_argument("--claims", type=int, default=3000)
    parser.add_argument("--events", type=int, default=4)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--configs", default="1:sqlite,2:sqlite,2:postgres",
                        help="comma-separated workers:database (database: sqlite or postgres)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here instead of bench/results/")
    args = parser.parse_args(argv)
    stop_on_signals()
    result: dict = {"claims": args.claims, "events": args.events, "clients": args.clients, "configs": []}
    for config in args.configs.split(","):
        workers, database = config.split(":")
        print(f"scale: {workers} worker(s) on {database}, {args.claims} claims", flush=True)
        figures = burst("batched", args.claims, args.events, args.clients, max(120.0, args.claims / 5),
                        workers=int(workers), database=database)
        print(f"scale: {config}: {json.dumps(figures)}", flush=True)
        key = f"{workers}_{database}"
        result["configs"].append(key)
        result.update({f"{key}_{k}": v for k, v in figures.items() if k not in ("claims", "events", "clients")})
    return finish("scale", "bench/scale.py", result, argv, args.out)


if __name__ == "__main__":
    main()
