"""Gasless votes: `--voters` custodial members vote on one proposal at once, end to end.

    python bench/votes.py [--voters 1000] [--clients 100]

Set-up (not measured): a stack of its own (bench/stack.py), the members created in the database, one event whose
badge every voter gets through the relayer (claims inserted as accepted: the relayer issues them in batches of 100),
so each holds 10 points before the proposal's snapshot; one member proposes a text decision through the API (the
relayer sends `propose` from the member's key), Anvil's clock is moved past the voting delay. Measured: every voter
POSTs /api/proposals/{id}/votes (the backend signs the ballot with the member's key; the relayer sends ballots 100
to a `multicall`), from the load generator in a separate process; then the time until all are confirmed, as the
relayer stored it, and on chain (hasVoted for every voter; the tally must be exactly the points of the accepted
votes). Writes bench/results/votes.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backend.claims.models import Claim, ClaimMethod, ClaimStatus  # noqa: E402
from backend.governance.models import RelayStatus, Vote  # noqa: E402
from bench.stack import (  # noqa: E402
    Stack,
    stop_on_signals,
    answered_window,
    finish,
    percentile,
    run_load,
    wait_settled,
    wait_until,
)

POINTS = 10


def votes(voters: int, clients: int, confirm_timeout: float, worker_process: bool = True,
          workers: int = 1) -> dict:
    with Stack(worker_process=worker_process, workers=workers) as stack:
        organizer, *members = stack.add_members(voters + 1)
        stack.start()
        _org, (event,) = stack.organization_with_events(organizer, 1, points=POINTS)
        with stack.sessions.begin() as session:  # set-up: every voter's badge, issued by the relayer
            session.add_all(Claim(user_id=m.user_id, event_id=event["id"], recipient=m.address,
                                  method=ClaimMethod.word) for m in members)

        def badges_confirmed() -> bool:
            with stack.sessions() as session:
                return session.scalar(select(func.count()).select_from(Claim)
                                      .where(Claim.status == ClaimStatus.confirmed)) == voters

        wait_until(badges_confirmed, 120 + voters / 10, "every voter's badge confirmed", 0.5)
        proposer = {"Authorization": f"Bearer {members[0].token}"}
        response = httpx.post(f"{stack.api}/proposals", headers=proposer, timeout=30, json={
            "kind": "text", "title_ja": "金沢駅に市民の展示スペースを",
            "title_en": "A residents' exhibition space at Kanazawa Station"})
        response.raise_for_status()
        proposal_id = response.json()["id"]

        def state() -> str:
            return httpx.get(f"{stack.api}/proposals/{proposal_id}", timeout=10).json()["state"]

        wait_until(lambda: state() == "pending", 60, "proposal on chain", 0.2)
        stack.chain.travel(stack.settings.voting_delay_s + 1)
        wait_until(lambda: state() == "active", 60, "voting open", 0.2)
        chain_pid = int(httpx.get(f"{stack.api}/proposals/{proposal_id}", timeout=10).json()["proposal_id"])

        requests = [{"method": "POST", "path": f"/api/proposals/{proposal_id}/votes", "token": m.token,
                     "json": {"support": (0, 1, 1, 2)[i % 4]}} for i, m in enumerate(members)]
        cpu_before = stack.server_cpu_s()
        records = run_load({"base": stack.base, "concurrency": clients, "deadline_s": 300, "timeout_s": 60,
                            "requests": requests}, timeout=300)
        accepted = [i for i, r in enumerate(records) if r["status"] == 202]
        first, last_answer = answered_window(records)
        wait_settled(stack, Vote.status, (RelayStatus.accepted, RelayStatus.submitted), confirm_timeout)
        server_cpu = stack.server_cpu_s() - cpu_before
        with stack.sessions() as session:
            rows = session.execute(select(Vote.voter, Vote.status, Vote.confirmed_at)).all()
            db_duplicates = session.scalar(select(func.count()).select_from(
                select(Vote.voter).group_by(Vote.proposal_id, Vote.voter).having(func.count() > 1).subquery()))
        governor = stack.contract("KyosoGovernor")
        voted = [governor.functions.hasVoted(chain_pid, members[i].address).call() for i in accepted]
        against, for_, abstain = governor.functions.proposalVotes(chain_pid).call()
        confirmed = [r for r in rows if r.status == RelayStatus.confirmed]
        last_confirmed = max((r.confirmed_at.timestamp() for r in confirmed), default=None)
        latencies = [(r["end"] - r["start"]) * 1000 for r in records if r["status"] == 202]
        counted = against + for_ + abstain
        return {
            "votes": voters, "clients": clients, "accepted": len(accepted), "confirmed": len(confirmed),
            "all_confirmed_after_s": round(last_confirmed - first, 2) if last_confirmed else None,
            "last_confirmed_after_s": round(last_confirmed - last_answer, 2) if last_confirmed else None,
            "votes_per_s": round(len(confirmed) / (last_confirmed - first), 1) if last_confirmed else 0.0,
            "accepted_per_s": round(len(accepted) / (last_answer - first), 1),
            "p50_request_ms": round(percentile(latencies, 50), 1), "p99_request_ms": round(percentile(latencies, 99), 1),
            "lost": sum(1 for v in voted if not v) + (len(accepted) - len(confirmed) if len(confirmed) < len(accepted)
                                                      else 0),
            # a vote counted twice would show as more weight on chain than the accepted votes carry
            "duplicated": db_duplicates + max(0, counted - POINTS * len(accepted)) // POINTS,
            "server_cpu_ms_per_vote": round(server_cpu * 1000 / max(1, len(records)), 2),
            "tally_points": counted, "not_accepted": len(records) - len(accepted),
        }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="gasless votes benchmark (docs/benchmarks.md)")
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--confirm-timeout", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--single-process", action="store_true",
                        help="the relayer and the indexer in the API process instead of the background worker")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    stop_on_signals()
    print(f"votes: {args.voters} voters, {args.clients} clients", flush=True)
    result = votes(args.voters, args.clients, args.confirm_timeout, not args.single_process, args.workers)
    result.update(worker_process=not args.single_process, workers=args.workers)
    print(f"votes: {result}", flush=True)
    return finish("votes", "bench/votes.py", result, argv, args.out)

if __name__ == "__main__":
    main()
