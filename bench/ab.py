"""Same-run A/B of two commits: the festival burst and the vote burst, alternated (base, new, base, new, ...).

    python bench/ab.py BASE_WORKTREE [--rounds 2] [--claims 3000] [--voters 500] [--out bench/results/ab-<base>]

BASE_WORKTREE is a checkout of the baseline commit (`git worktree add ../ab-base <commit>`, with this checkout's
.venv, node_modules, .solcx, .bin and build linked into it); the new side is this checkout. Each run is the
benchmark's own command (`bench/burst.py --modes batched`, `bench/votes.py`) on its own Anvil and database, so the
two sides differ only in their code. Writes one JSON per run and `summary.json` with the medians of each side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "burst": ("accepted_per_s", "confirmed_per_s", "server_cpu_ms_per_claim", "p99_request_ms", "lost", "duplicated"),
    "votes": ("accepted_per_s", "all_confirmed_after_s", "server_cpu_ms_per_vote", "p99_request_ms", "lost",
              "duplicated"),
}


def run(tree: Path, kind: str, args: list[str], out: Path) -> dict:
    script = "bench/burst.py" if kind == "burst" else "bench/votes.py"
    command = [sys.executable, script, *args, "--out", str(out)]
    print(f"[{tree.name}] {' '.join(command[1:])}", flush=True)
    subprocess.run(command, cwd=tree, check=True)
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="a checkout of the baseline commit")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--claims", type=int, default=3000)
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--kinds", default="burst,votes", help="which benchmarks: burst, votes or both")
    parser.add_argument("--first-round", type=int, default=1, help="number the runs from here (to add rounds)")
    parser.add_argument("--out", type=Path, default=None)
    options = parser.parse_args()
    base = options.base.resolve()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True, text=True,
                            check=True).stdout.strip()
    out = (options.out or ROOT / "bench" / "results" / f"ab-{commit}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    plans = {"burst": ["--claims", str(options.claims), "--modes", "batched"],
             "votes": ["--voters", str(options.voters)]}
    plans = {kind: args for kind, args in plans.items() if kind in options.kinds.split(",")}
    results: dict[str, dict[str, list[dict]]] = {kind: {"base": [], "new": []} for kind in plans}
    for round_ in range(options.first_round, options.first_round + options.rounds):
        for kind, args in plans.items():
            for side, tree in (("base", base), ("new", ROOT)):
                results[kind][side].append(run(tree, kind, args, out / f"{kind}-{side}-{round_}.json"))
    # every run of the folder counts, also those of an earlier call (--first-round)
    for kind in plans:
        for side in ("base", "new"):
            results[kind][side] = [json.loads(path.read_text()) for path in sorted(out.glob(f"{kind}-{side}-*.json"))]
    summary = {"base_commit": commit, "rounds": len(results[next(iter(plans))]["base"])}
    for kind, sides in results.items():
        for key in KEYS[kind]:
            for side, runs in sides.items():
                values = [r.get(key) for r in runs if r.get(key) is not None]
                summary[f"{kind}_{side}_{key}"] = values
                if values:
                    summary[f"{kind}_{side}_{key}_median"] = statistics.median(values)
    (out / f"summary-{'-'.join(plans)}.json").write_text(json.dumps(summary, indent=2) + "\n")
    for kind in plans:
        for key in KEYS[kind]:
            b, n = summary.get(f"{kind}_base_{key}", []), summary.get(f"{kind}_new_{key}", [])
            print(f"{kind:6} {key:28} base {b}  new {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
