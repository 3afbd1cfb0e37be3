"""Where a claim's CPU goes: the API alone (relayer and indexer off), next to the framework's own floor, in one run.

    python bench/floor.py [--requests 1000] [--clients 1,100]

Measured, each at every `--clients` level, as backend CPU per request (user + system, from /proc) and answers/s:
- `bare`: a FastAPI app with one sync route behind one sync dependency, nothing else (bench/floor_app.py): what
  uvicorn + FastAPI cost per request on this machine before any of Kyoso's code runs;
- `me`: Kyoso's `GET /api/me` (middleware, bearer-token lookup, one member read, the JSON answer);
- `claim`: Kyoso's `POST /api/events/{id}/claims` with the secret word, each by a new member, stored as accepted
  (nothing is relayed: the relayer and the indexer are off, so their CPU is not in it).
With one client the figure is the work of one request; with many, what concurrency adds (threads, GIL, the SQLite
write lock). Writes bench/results/floor.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.burst import WORDS  # noqa: E402
from bench.stack import (  # noqa: E402
    ROOT,
    Stack,
    answered_window,
    answers_200,
    finish,
    process_tree_cpu_s,
    run_load,
    stop_on_signals,
    wait_until,
)
from tools.devstack.processes import Captured, free_port  # noqa: E402


def measure(base: str, pid: int, requests: list[dict], clients: int) -> dict:
    before = process_tree_cpu_s(pid)
    records = run_load({"base": base, "concurrency": clients, "deadline_s": 600, "timeout_s": 60,
                        "requests": requests}, timeout=600)
    used = process_tree_cpu_s(pid) - before
    ok = [r for r in records if r["status"] in (200, 202)]
    first, last = answered_window(records)
    return {"requests": len(requests), "ok": len(ok), "per_s": round(len(ok) / (last - first), 1),
            "cpu_ms": round(used * 1000 / len(requests), 2)}


def bare(requests: int, clients: list[int]) -> dict:
    port = free_port()
    server = Captured([sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--host", "127.0.0.1", "--port",
                       str(port), "--no-access-log", "--log-level", "warning"], ROOT, {})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers_200(f"{base}/ping"), 30, "bare FastAPI app")
        return {c: measure(base, server.proc.pid, [{"method": "GET", "path": "/ping"}] * requests, c)
                for c in clients}
    finally:
        server.kill()


def kyoso(requests: int, clients: list[int]) -> tuple[dict, dict]:
    with Stack() as stack:
        organizer, *members = stack.add_members(requests * len(clients) + 1)
        stack.start()
        _org, evs = stack.organization_with_events(organizer, 4, words=WORDS[:4])
        stack.stop_server()
        stack.start(KYOSO_RELAYER_ENABLED="false", KYOSO_INDEXER_ENABLED="false")
        me, claim = {}, {}
        for n, c in enumerate(clients):
            chunk = members[n * requests:(n + 1) * requests]
            me[c] = measure(stack.base, stack.server.proc.pid,
                            [{"method": "GET", "path": "/api/me", "token": m.token} for m in chunk], c)
            claim[c] = measure(stack.base, stack.server.proc.pid,
                               [{"method": "POST", "path": f"/api/events/{evs[i % 4]['id']}/claims", "token": m.token,
                                 "json": {"method": "word", "secret": WORDS[i % 4]}} for i, m in enumerate(chunk)], c)
        return me, claim


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="API cost floor (docs/benchmarks.md)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per kind and client level")
    parser.add_argument("--clients", default="1,100", help="comma-separated concurrency levels")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here instead of bench/results/")
    args = parser.parse_args(argv)
    stop_on_signals()
    clients = [int(c) for c in args.clients.split(",")]
    result: dict = {"requests": args.requests, "clients": clients}
    figures = {"bare": bare(args.requests, clients)}
    figures["me"], figures["claim"] = kyoso(args.requests, clients)
    for kind, by_clients in figures.items():
        for c, values in by_clients.items():
            result.update({f"{kind}_c{c}_{k}": v for k, v in values.items()})
    print(f"floor: {json.dumps(result)}", flush=True)
    return finish("floor", "bench/floor.py", result, argv, args.out)


if __name__ == "__main__":
    main()
