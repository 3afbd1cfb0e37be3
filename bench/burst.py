"""Festival burst: many members claim badges of a few events at once, end to end.

    python bench/burst.py [--claims 10000] [--events 4] [--clients 100] [--modes batched,naive,interval2s]

For each mode, a stack of its own (bench/stack.py: Anvil, suite, database, uvicorn): `--claims` members (one distinct
account per claim, created in the database as set-up), one organization with `--events` events whose secret word is
announced (the "word" claim method), then the load generator (bench/load.py, a separate process, `--clients`
concurrent connections) sends every claim once and the run waits until every accepted claim is confirmed.
Modes: batched (the relayer as it ships, Anvil automine), naive (bench/naive_relayer.py, started by
bench/naive_backend.py: one transaction per claim, each receipt waited for before the next), interval2s (batched, Anvil
mining a block every 2 s).

Measured: accepted_per_s (202s / time from the first request to the last answer), confirmed_per_s (confirmed claims /
time from the first request to the last confirmation, as the relayer stored it), last_confirmed_after_s (last
confirmation - last answer), p50/p99 of the claim request, lost (accepted but not confirmed, or confirmed in the
database without the badge on chain) and duplicated (a badge held twice on chain, or two confirmed claims of one
member for one event in the database). Writes bench/results/burst.json (`--out` to write elsewhere).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from backend.claims.models import Claim, ClaimMethod, ClaimStatus  # noqa: E402
from backend.platform.models import OutboundTx  # noqa: E402
from backend.platform.orm import utcnow  # noqa: E402
from bench.stack import (  # noqa: E402
    Stack,
    stop_on_signals,
    answered_window,
    chain_balances,
    finish,
    percentile,
    run_load,
    wait_settled,
)

# mode -> (the naive relayer?, Anvil block time)
MODES = {"batched": (False, None), "naive": (True, None), "interval2s": (False, 2)}
WORDS = ["hyakumangoku", "kenrokuen", "higashichaya", "omicho", "kanazawa", "utatsuyama", "nagamachi", "asanogawa"]


def relayer_drain(stack, members, evs: list[dict], timeout: float) -> dict:
    """The relayer alone, without the API in front: claims stored as accepted all at once (as the claim route stores
    them), then the time until the relayer has confirmed every one."""
    with stack.sessions.begin() as session:
        start = utcnow()
        session.add_all(Claim(user_id=m.user_id, event_id=evs[i % len(evs)]["id"], recipient=m.address,
                              method=ClaimMethod.word, created_at=start) for i, m in enumerate(members))
    ids = {m.user_id for m in members}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stack.sessions() as session:
            rows = session.execute(select(Claim.status, Claim.confirmed_at).where(Claim.user_id.in_(ids))).all()
        if all(r.status in (ClaimStatus.confirmed, ClaimStatus.failed) for r in rows):
            break
        time.sleep(0.25)
    confirmed = [r.confirmed_at for r in rows if r.status == ClaimStatus.confirmed]
    took = (max(confirmed) - start).total_seconds() if confirmed else None
    return {"drain_claims": len(members), "drain_confirmed": len(confirmed),
            "drain_confirmed_per_s": round(len(confirmed) / took, 1) if took else 0.0}


def burst(mode: str, claims: int, events: int, clients: int, confirm_timeout: float, drain_claims: int = 0,
          workers: int = 1, database: str = "sqlite", worker_process: bool = True) -> dict:
    naive_relayer, block_time = MODES[mode]
    with Stack(block_time=block_time, naive_relayer=naive_relayer, workers=workers, database=database,
               worker_process=worker_process) as stack:
        organizer, *members = stack.add_members(claims + 1)
        drain_members = stack.add_members(drain_claims, prefix="drain") if drain_claims else []
        stack.start()
        _org, evs = stack.organization_with_events(organizer, events, words=WORDS[:events])
        requests = [{"method": "POST", "path": f"/api/events/{evs[i % events]['id']}/claims", "token": m.token,
                     "json": {"method": "word", "secret": WORDS[i % events].upper()}}  # spoken: any case
                    for i, m in enumerate(members)]
        cpu_before, api_cpu_before = stack.server_cpu_s(), stack.api_cpu_s()
        records = run_load({"base": stack.base, "concurrency": clients, "deadline_s": max(120, claims / 10),
                            "timeout_s": 60, "requests": requests}, timeout=max(120, claims / 10))
        accepted = {r["id"]: i for i, r in enumerate(records) if r["status"] == 202}
        first, last_answer = answered_window(records)
        wait_settled(stack, Claim.status, (ClaimStatus.accepted, ClaimStatus.submitted), confirm_timeout)
        server_cpu, api_cpu = stack.server_cpu_s() - cpu_before, stack.api_cpu_s() - api_cpu_before
        with stack.sessions() as session:
            rows = session.execute(select(Claim.id, Claim.user_id, Claim.event_id, Claim.status, Claim.confirmed_at,
                                          Claim.created_at,
                                          Claim.recipient)).all()
            db_duplicates = session.scalar(select(func.count()).select_from(
                select(Claim.user_id, Claim.event_id).where(Claim.status == ClaimStatus.confirmed)
                .group_by(Claim.user_id, Claim.event_id).having(func.count() > 1).subquery()))
            txs = session.scalar(select(func.count()).select_from(OutboundTx).where(OutboundTx.purpose == "issue"))
        token_of = {e["id"]: e["token_id"] for e in evs}
        by_id = {r.id: r for r in rows}
        confirmed = [r for r in rows if r.status == ClaimStatus.confirmed]
        balances = chain_balances(stack.contract("ParticipationBadges"),
                                  [(m.address, token_of[evs[i % events]["id"]]) for i, m in enumerate(members)])
        lost_db = sum(1 for cid in accepted if cid not in by_id or by_id[cid].status != ClaimStatus.confirmed)
        lost_chain = sum(1 for cid, i in accepted.items() if balances[i] == 0)
        last_confirmed = max((r.confirmed_at.timestamp() for r in confirmed), default=None)
        latencies = [(r["end"] - r["start"]) * 1000 for r in records if r["status"] == 202]
        waits = [(r.confirmed_at - r.created_at).total_seconds() for r in confirmed]
        statuses: dict[str, int] = {}
        for r in records:
            statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        drain = relayer_drain(stack, drain_members, evs, confirm_timeout) if drain_members else {}
        return {
            **drain,
            "claims": claims, "events": events, "clients": clients, "accepted": len(accepted),
            "confirmed": len(confirmed), "issue_transactions": txs,
            "accepted_per_s": round(len(accepted) / (last_answer - first), 1),
            "confirmed_per_s": round(len(confirmed) / (last_confirmed - first), 1) if last_confirmed else 0.0,
            "requests_s": round(last_answer - first, 2),
            "last_confirmed_after_s": round(last_confirmed - last_answer, 2) if last_confirmed else None,
            "p50_request_ms": round(percentile(latencies, 50), 1), "p99_request_ms": round(percentile(latencies, 99), 1),
            # from the claim stored (202) to its confirmation stored by the relayer
            "p50_accepted_to_confirmed_s": round(percentile(waits, 50), 2) if waits else None,
            "p99_accepted_to_confirmed_s": round(percentile(waits, 99), 2) if waits else None,
            "lost": max(lost_db, lost_chain), "duplicated": db_duplicates + sum(1 for b in balances if b > 1),
            "not_accepted": len(records) - len(accepted),
            **{f"answers_{status}": count for status, count in sorted(statuses.items())},  # 0: no answer
            # CPU the backend used from the first request to the last confirmation, per claim: less noisy than the
            # rates on a shared machine
            "server_cpu_ms_per_claim": round(server_cpu * 1000 / max(1, len(records)), 2),
            "api_cpu_ms_per_claim": round(api_cpu * 1000 / max(1, len(records)), 2),
            "worker_cpu_ms_per_claim": round((server_cpu - api_cpu) * 1000 / max(1, len(records)), 2),
        }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="festival burst benchmark (docs/benchmarks.md)")
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=4)
    parser.add_argument("--clients", type=int, default=100, help="concurrent HTTP connections of the load generator")
    parser.add_argument("--modes", default="batched,naive,interval2s")
    parser.add_argument("--drain-claims", type=int, default=2000,
                        help="after the burst, this many claims stored at once for the relayer alone (0: skip)")
    parser.add_argument("--confirm-timeout", type=float, default=None,
                        help="seconds to wait for confirmations after the last answer (default: claims / 5, >= 120:"
                             " the naive baseline needs that long on a busy machine)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the backend")
    parser.add_argument("--single-process", action="store_true",
                        help="the relayer and the indexer in the API process instead of the background worker")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: a PostgreSQL server of the run's own (Debian's binaries)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here instead of bench/results/")
    args = parser.parse_args(argv)
    stop_on_signals()
    timeout = args.confirm_timeout or max(120.0, (args.claims + args.drain_claims) / 5)
    result: dict = {}
    for mode in args.modes.split(","):
        print(f"burst: {mode}, {args.claims} claims over {args.events} events, {args.clients} clients", flush=True)
        figures = burst(mode, args.claims, args.events, args.clients, timeout, args.drain_claims, args.workers,
                        args.database, not args.single_process)
        print(f"burst: {mode}: {json.dumps(figures)}", flush=True)
        prefix = {"batched": "", "naive": "naive_", "interval2s": "interval2s_"}[mode]
        result.update({f"{prefix}{k}": v for k, v in figures.items() if not (prefix and k in ("claims", "events",
                                                                                            "clients"))})
    result.setdefault("claims", args.claims)
    result.update(workers=args.workers, database=args.database, worker_process=not args.single_process)
    return finish("burst", "bench/burst.py", result, argv, args.out)

if __name__ == "__main__":
    main()
