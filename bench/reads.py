"""Reads at community scale: the badge gallery and the proposal pages with 100,000 badges and 10,000 members.

    python bench/reads.py [--members 10000] [--badges-per-member 10] [--events 20] [--proposals 20]
                          [--votes-per-proposal 500] [--requests 500] [--clients 1]

Set-up (not measured): a stack of its own (bench/stack.py), the members created in the database, one organization
with `--events` events created through the API (on chain), then rows bulk-inserted as the relayer and the indexer
would have left them: a confirmed claim and a badge_holdings row for each of the members' badges, points balances,
`--proposals` text proposals open for voting with `--votes-per-proposal` confirmed votes each. Measured: `--requests`
GETs per page over HTTP against the real uvicorn, `--clients` at a time (1: one after the other, so that the figure
is the page's own time), after 20 unmeasured warm-up requests; p50/p99 in ms. Writes bench/results/reads.json.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from backend.claims.models import BadgeHolding, Claim, ClaimMethod, ClaimStatus, PointsBalance
from backend.governance.models import Proposal, ProposalKind, RelayStatus, Vote
from backend.platform.models import IndexerCursor
from bench.stack import Stack, finish, percentile, run_load, stop_on_signals, wait_until  # noqa: E402

WARM_UP = 20
CHUNK = 5000


def populate(stack: Stack, members, events: list[dict], badges_per_member: int, proposals: int,
             votes_per_proposal: int) -> list[int]:
    """Bulk set-up rows; returns the proposals' database ids."""
    rng = random.Random(8)
    now = datetime.now(timezone.utc)
    block = stack.chain.w3.eth.block_number
    holdings, claims = [], []
    for m in members:
        for event in rng.sample(events, badges_per_member):
            tx_hash = "0x" + secrets.token_hex(32)
            holdings.append({"holder": m.address, "token_id": event["token_id"], "block_number": block,
                             "tx_hash": tx_hash})
            claims.append({"user_id": m.user_id, "event_id": event["id"], "recipient": m.address,
                           "method": ClaimMethod.word, "status": ClaimStatus.confirmed, "attempts": 0,
                           "created_at": now, "confirmed_at": now})
    points = badges_per_member * events[0]["points"]
    with stack.sessions.begin() as session:
        for table, rows in ((BadgeHolding, holdings), (Claim, claims)):
            for i in range(0, len(rows), CHUNK):
                session.execute(insert(table), rows[i:i + CHUNK])
        session.execute(insert(PointsBalance), [{"holder": m.address, "balance": points, "votes": points}
                                                for m in members])
    chain_now = stack.chain.w3.eth.get_block("latest")["timestamp"]
    wait_until(lambda: _indexed_timestamp(stack), 60, "indexer at the chain's head", 0.2)
    ids = []
    with stack.sessions.begin() as session:
        for p in range(proposals):
            proposal = Proposal(
                proposal_id=str(int.from_bytes(secrets.token_bytes(32), "big")), proposer_user_id=members[p].user_id,
                proposer_address=members[p].address, kind=ProposalKind.text,
                title_ja=f"金沢駅に市民の展示スペースを {p + 1}", title_en=f"A residents' exhibition space {p + 1}",
                body_ja="鼓門の下に、市民の作品を展示する場所をつくります。" * 5,
                body_en="A place under the Tsuzumi Gate where residents show their work. " * 5,
                text_sha256=secrets.token_hex(32), description=f"bench proposal {p}",
                actions={"targets": [], "values": [], "calldatas": []}, status=RelayStatus.confirmed,
                snapshot=chain_now - 60, deadline=chain_now + 7 * 86400, created_tx="0x" + secrets.token_hex(32),
                quorum=len(members) * points // 25,
            )
            session.add(proposal)
            session.flush()
            ids.append(proposal.id)
            voters = rng.sample(members, min(votes_per_proposal, len(members)))
            session.execute(insert(Vote), [
                {"proposal_id": proposal.id, "voter": v.address, "user_id": v.user_id, "support": i % 3,
                 "reason": "", "signature": secrets.token_bytes(65), "status": RelayStatus.confirmed,
                 "attempts": 0, "weight": points, "points": points, "tx_hash": "0x" + secrets.token_hex(32),
                 "block_number": block, "created_at": now, "confirmed_at": now} for i, v in enumerate(voters)])
            proposal.votes_for = proposal.points_for = points * sum(1 for i in range(len(voters)) if i % 3 == 1)
            proposal.votes_against = proposal.points_against = points * sum(1 for i in range(len(voters)) if i % 3 == 0)
    return ids


def _indexed_timestamp(stack: Stack):
    with stack.sessions() as session:
        return session.scalar(select(func.max(IndexerCursor.block_timestamp)))


def measure(stack: Stack, paths: list[tuple[str, str | None]], clients: int) -> dict:
    warm = [{"method": "GET", "path": p, "token": t} for p, t in paths[:WARM_UP]]
    run_load({"base": stack.base, "concurrency": clients, "requests": warm, "timeout_s": 30}, timeout=120)
    records = run_load({"base": stack.base, "concurrency": clients, "timeout_s": 30, "deadline_s": 600,
                        "requests": [{"method": "GET", "path": p, "token": t} for p, t in paths]}, timeout=600)
    bad = [r["status"] for r in records if r["status"] != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} reads failed: statuses {sorted(set(bad))}")
    latencies = [(r["end"] - r["start"]) * 1000 for r in records]
    return {"p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1)}


def reads(n_members: int, badges_per_member: int, n_events: int, proposals: int, votes_per_proposal: int,
          requests: int, clients: int) -> dict:
    with Stack() as stack:
        organizer, *members = stack.add_members(n_members + 1)
        stack.start()
        _org, events = stack.organization_with_events(organizer, n_events)
        ids = populate(stack, members, events, badges_per_member, proposals, votes_per_proposal)
        with stack.sessions() as session:
            badge_rows = session.scalar(select(func.count()).select_from(BadgeHolding))
        rng = random.Random(11)

        def member_paths(path: str) -> list[tuple[str, str]]:
            return [(path, rng.choice(members).token) for _ in range(requests)]

        pages = {
            "gallery_api": member_paths("/api/me/wallet"),
            "gallery_page": member_paths("/me"),
            "proposals_api": [("/api/proposals", None)] * requests,
            "proposal_api": [(f"/api/proposals/{rng.choice(ids)}", None) for _ in range(requests)],
            "proposal_page": [(f"/proposals/{rng.choice(ids)}", None) for _ in range(requests)],
            "proposal_page_member": [(f"/proposals/{rng.choice(ids)}", rng.choice(members).token)
                                     for _ in range(requests)],
        }
        result = {"members": n_members, "badges": badge_rows, "events": n_events, "proposals": proposals,
                  "votes_per_proposal": votes_per_proposal, "requests_per_page": requests, "clients": clients}
        for name, paths in pages.items():
            figures = measure(stack, paths, clients)
            print(f"reads: {name}: {figures}", flush=True)
            result.update({f"{name}_{k}": v for k, v in figures.items()})
        return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="read latency benchmark (docs/benchmarks.md)")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--badges-per-member", type=int, default=10)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--proposals", type=int, default=20)
    parser.add_argument("--votes-per-proposal", type=int, default=500)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    stop_on_signals()
    print(f"reads: {args.members} members x {args.badges_per_member} badges", flush=True)
    result = reads(args.members, args.badges_per_member, args.events, args.proposals, args.votes_per_proposal,
                   args.requests, args.clients)
    return finish("reads", "bench/reads.py", result, argv, args.out)

if __name__ == "__main__":
    main()
