"""Soak: a public chain's bad half hour, end to end (issue #19).

    python bench/soak.py [--minutes 30] [--claims 5000] [--votes 500] [--max-depth 3] [--seed N]

A stack of its own (bench/stack.py) on `make run`'s chain: Anvil making a block every 2 s whatever the backend does,
nobody moving its clock. The backend reaches the node only through the fault-injecting JSON-RPC proxy
(tools/devstack/rpc_proxy.py, a real HTTP process) that refuses eth_getLogs ranges over 100 blocks and answers over
200 logs, as providers do. For `--minutes`:

- `--claims` members claim a badge each (one of 10 events, the announced word), spread evenly over the run from a
  separate load-generator process (bench/load.py with an arrival schedule); the first `--votes` of them claim first;
- once their points are confirmed, one of them proposes through the API; when the chain opens voting (a 60 s voting
  delay, on the chain's own clock), each of them votes, spread over the rest of the run;
- every 45-120 s (random), `anvil_reorg` replaces the newest 1 to `--max-depth` blocks with empty ones, taking out
  whatever the relayer had settled in them; then the next block carries the wall clock's time, as a real new branch
  does (Anvil stamps its replacement blocks with the fork block's time);
- every 15-40 s (random), the proxy fails the next 1-5 requests with one of 429 (Retry-After), 500, a 3 s timeout
  and a dropped connection after the node got the request.

The indexer's lag is sampled every 2 s from the database's cursor and the node's head. Afterwards (faults off) the
run waits until nothing is in flight, then checks against the chain: every accepted claim is one badge and 10
points on chain and in the member's wallet view, every accepted vote is counted once in `proposalVotes`, the API's
tally equals it. Writes bench/results/soak.json (`--out` to write elsewhere). Not part of `make test`:
`make bench-soak`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backend.claims.models import Claim, ClaimStatus  # noqa: E402
from backend.governance.models import RelayStatus, Vote  # noqa: E402
from backend.platform.models import IndexerCursor, OutboundTx, TxStatus  # noqa: E402
from bench.stack import ROOT, Stack, chain_balances, finish, percentile, run_load, stop_on_signals, wait_until  # noqa: E402
from scripts.suite import GovernanceSettings  # noqa: E402
from tools.devstack.processes import Captured, free_port  # noqa: E402

BLOCK_TIME_S = 2
POINTS = 10
EVENTS = 10
WORDS = [f"kanazawa{i}" for i in range(EVENTS)]
VOTING_DELAY_S = 60
FAULTS = ("429", "500", "timeout", "drop")
LAG_LIMIT_S = 60


class Chaos(threading.Thread):
    """Reorgs on the chain and faults in the proxy at random moments until stopped."""

    def __init__(self, stack: Stack, proxy: str, max_depth: int, rng: random.Random):
        super().__init__(daemon=True)
        self.stack, self.proxy, self.max_depth, self.rng = stack, proxy, max_depth, rng
        self.stopped = threading.Event()
        self.reorgs: list[dict] = []
        self.faults: list[dict] = []

    def run(self) -> None:
        w3 = self.stack.chain.w3
        next_reorg = time.monotonic() + self.rng.uniform(45, 120)
        next_fault = time.monotonic() + self.rng.uniform(15, 40)
        while not self.stopped.wait(0.5):
            now = time.monotonic()
            if now >= next_reorg:
                depth = self.rng.randint(1, self.max_depth)
                before = w3.eth.get_block("latest")
                mined = self._settled_since(before["number"] - depth)
                error = w3.provider.make_request("anvil_reorg", [depth, []]).get("error")
                gone = [h for h in mined if w3.provider.make_request(
                    "eth_getTransactionReceipt", [h]).get("result") is None]
                # the new branch's next block carries the real time again, as on a public chain
                stamp = max(int(time.time()), w3.eth.get_block("latest")["timestamp"] + 1)
                w3.provider.make_request("evm_setNextBlockTimestamp", [stamp])
                self.reorgs.append({"at_block": before["number"], "depth": depth, "error": error,
                                    "settled_txs_taken_out": len(gone)})
                next_reorg = now + self.rng.uniform(45, 120)
            if now >= next_fault:
                fault, count = self.rng.choice(FAULTS), self.rng.randint(1, 5)
                httpx.post(f"{self.proxy}/_faults", json={"fault": fault, "count": count}, timeout=10)
                self.faults.append({"fault": fault, "count": count})
                next_fault = now + self.rng.uniform(15, 40)

    def _settled_since(self, block: int) -> list[str]:
        with self.stack.sessions() as session:
            return list(session.scalars(select(OutboundTx.tx_hash).where(OutboundTx.status == TxStatus.mined,
                                                                         OutboundTx.block_number > block)))


class LagProbe(threading.Thread):
    """How far the indexer trails the chain's head, every 2 s: blocks × block time, from the database's cursor and
    the node (directly, not through the faulty proxy); and what /api/health said."""

    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack = stack
        self.stopped = threading.Event()
        self.lags: list[float] = []
        self.health_problems: set[str] = set()
        self.degraded = 0

    def run(self) -> None:
        while not self.stopped.wait(2):
            head = self.stack.chain.w3.eth.block_number
            with self.stack.sessions() as session:
                cursor = session.get(IndexerCursor, "contracts")
            if cursor is not None:
                self.lags.append(max(0, head - (cursor.next_block - 1)) * BLOCK_TIME_S)
            try:
                health = httpx.get(f"{self.stack.api}/health", timeout=10).json()
            except httpx.HTTPError:
                continue
            if health.get("status") == "degraded":
                self.degraded += 1
                # keep the kind of problem, not its changing figures
                self.health_problems.update(p.split(":")[0][:80] for p in health["problems"])


def claim_requests(stack: Stack, members, events: list[dict], start_s: float, span_s: float) -> list[dict]:
    step = span_s / max(1, len(members))
    return [{"method": "POST", "path": f"/api/events/{events[i % EVENTS]['id']}/claims", "token": m.token,
             "json": {"method": "word", "secret": WORDS[i % EVENTS]}, "at": round(start_s + i * step, 3)}
            for i, m in enumerate(members)]


def soak(minutes: float, claims: int, votes: int, max_depth: int, seed: int, settle_timeout: float,
         write) -> dict:
    """Runs the soak and hands its result to `write` before the stack's own check that nothing reverted (which
    raises), so a failing run still leaves its figures."""
    rng = random.Random(seed)
    run_s = minutes * 60
    governance = GovernanceSettings(voting_delay_s=VOTING_DELAY_S, voting_period_s=int(run_s) + 3_600,
                                    proposal_threshold=POINTS, quorum_percent=4, timelock_delay_s=3_600)
    with Stack(block_time=BLOCK_TIME_S, governance=governance) as stack:
        proxy_port = free_port()
        proxy_process = Captured([sys.executable, "-m", "tools.devstack.rpc_proxy", "--port", str(proxy_port),
                                  "--upstream", stack.chain.url], ROOT, {})
        try:
            proxy_process.wait_for_output("rpc proxy on", 30)
            proxy = f"http://127.0.0.1:{proxy_port}"
            httpx.post(f"{proxy}/_faults", json={"getlogs_max_blocks": 100, "getlogs_max_results": 200,
                                                 "delay_s": 3.0}, timeout=10).raise_for_status()
            organizer, *members = stack.add_members(claims + 1)
            stack.start(RPC_URL=proxy, KYOSO_RPC_TIMEOUT_S="2")
            _org, events = stack.organization_with_events(organizer, EVENTS, words=WORDS, points=POINTS)
            return write(run_soak(stack, proxy, members, events, run_s, votes, max_depth, rng, settle_timeout,
                                  seed))
        finally:
            proxy_process.kill()


def run_soak(stack: Stack, proxy: str, members, events: list[dict], run_s: float, votes: int, max_depth: int,
             rng: random.Random, settle_timeout: float, seed: int) -> dict:
    voters, others = members[:votes], members[votes:]
    started = time.time()
    chaos, probe = Chaos(stack, proxy, max_depth, rng), LagProbe(stack)
    chaos.start()
    probe.start()
    records: dict[str, list[dict]] = {}

    def load(name: str, requests: list[dict]) -> None:
        records[name] = run_load({"base": stack.base, "concurrency": 20, "deadline_s": run_s + 120,
                                  "timeout_s": 60, "requests": requests}, timeout=run_s + 120)

    # the voters claim in the first tenth of the run, everybody else over the whole of it
    voter_span = run_s / 10
    claim_jobs = [threading.Thread(target=load, args=("voter_claims", claim_requests(
        stack, voters, events, 0, voter_span))), threading.Thread(target=load, args=("claims", claim_requests(
            stack, others, events, 0, run_s * 0.9)))]
    for job in claim_jobs:
        job.start()
    claim_jobs[0].join()

    def voters_hold_points() -> bool:
        with stack.sessions() as session:
            return session.scalar(select(func.count()).select_from(Claim).where(
                Claim.user_id.in_([v.user_id for v in voters]), Claim.status == ClaimStatus.confirmed)) == votes

    wait_until(voters_hold_points, run_s / 5, "the voters' points confirmed", 1)
    answer = httpx.post(f"{stack.api}/proposals", headers={"Authorization": f"Bearer {voters[0].token}"},
                        timeout=60, json={"kind": "text", "title_ja": "金沢駅に市民の展示スペースを",
                                          "title_en": "A residents' exhibition space at Kanazawa Station"})
    answer.raise_for_status()
    proposal = answer.json()["id"]

    def proposal_view() -> dict:
        return httpx.get(f"{stack.api}/proposals/{proposal}", timeout=30).json()

    wait_until(lambda: proposal_view()["state"] == "active", 300, "voting open on the chain's clock", 1)
    opened = time.time() - started
    vote_span = max(60.0, run_s * 0.9 - opened)
    step = vote_span / votes
    load("votes", [{"method": "POST", "path": f"/api/proposals/{proposal}/votes", "token": v.token,
                    "json": {"support": (1, 1, 0, 2)[i % 4]}, "at": round(i * step, 3)}
                   for i, v in enumerate(voters)])
    claim_jobs[1].join()
    remaining = run_s - (time.time() - started)
    if remaining > 0:
        time.sleep(remaining)
    chaos.stopped.set()
    chaos.join()
    soaked_s = time.time() - started

    # faults off; everything in flight settles
    deadline = time.monotonic() + settle_timeout
    while time.monotonic() < deadline:
        with stack.sessions() as session:
            busy = session.scalar(select(func.count()).select_from(Claim).where(
                Claim.status.in_((ClaimStatus.accepted, ClaimStatus.submitted)))) + session.scalar(
                select(func.count()).select_from(Vote).where(
                    Vote.status.in_((RelayStatus.accepted, RelayStatus.submitted))))
        if not busy:
            break
        time.sleep(1)
    head = stack.chain.w3.eth.block_number

    def indexed_to_head() -> bool:
        with stack.sessions() as session:
            return session.get(IndexerCursor, "contracts").next_block > head

    wait_until(indexed_to_head, 120, "the indexer at the head", 1)
    probe.stopped.set()
    probe.join()
    return verdict(stack, proxy, members, voters, events, records, proposal, chaos, probe, soaked_s, seed)


def verdict(stack: Stack, proxy: str, members, voters, events: list[dict], records: dict, proposal: int,
            chaos: Chaos, probe: LagProbe, soaked_s: float, seed: int) -> dict:
    index = {m.user_id: i for i, m in enumerate(members)}
    claim_records = records["voter_claims"] + records["claims"]
    accepted_claims = sum(1 for r in claim_records if r["status"] == 202)
    vote_records = records["votes"]
    accepted_votes = [voters[i] for i, r in enumerate(vote_records) if r["status"] == 202]
    with stack.sessions() as session:
        rows = session.execute(select(Claim.user_id, Claim.status)).all()
        claim_duplicates = session.scalar(select(func.count()).select_from(
            select(Claim.user_id).where(Claim.status == ClaimStatus.confirmed)
            .group_by(Claim.user_id, Claim.event_id).having(func.count() > 1).subquery()))
        vote_rows = session.execute(select(Vote.voter, Vote.status)).all()
        reverted = session.execute(select(OutboundTx.purpose, OutboundTx.tx_hash)
                                   .where(OutboundTx.status == TxStatus.reverted)).all()
    confirmed = [r.user_id for r in rows if r.status == ClaimStatus.confirmed]
    failed_claims = sum(1 for r in rows if r.status == ClaimStatus.failed)
    token_of = [events[i % EVENTS]["token_id"] for i in range(len(members))]
    badges = chain_balances(stack.contract("ParticipationBadges"),
                            [(members[index[u]].address, token_of[index[u]]) for u in confirmed])
    points = stack.contract("ParticipationPoints")

    def view(member) -> tuple[int, int]:
        wallet = httpx.get(f"{stack.api}/me/wallet", headers={"Authorization": f"Bearer {member.token}"},
                           timeout=30).json()
        return len(wallet["badges"]), wallet["points"]

    claimed = [members[index[u]] for u in confirmed]
    with ThreadPoolExecutor(8) as pool:
        views = list(pool.map(view, claimed))
        on_chain_points = list(pool.map(lambda m: points.functions.balanceOf(m.address).call(), claimed))
    governor = stack.contract("KyosoGovernor")
    view_now = httpx.get(f"{stack.api}/proposals/{proposal}", timeout=30).json()
    chain_pid = int(view_now["proposal_id"])
    against, for_, abstain = governor.functions.proposalVotes(chain_pid).call()
    voted = [governor.functions.hasVoted(chain_pid, v.address).call() for v in accepted_votes]
    confirmed_votes = sum(1 for r in vote_rows if r.status == RelayStatus.confirmed)
    served = httpx.get(f"{proxy}/_faults", timeout=10).json()["served"]
    latencies = [(r["end"] - r["start"]) * 1000 for r in claim_records if r["status"] == 202]
    return {
        "minutes": round(soaked_s / 60, 1), "seed": seed, "block_time_s": BLOCK_TIME_S,
        "claims": len(claim_records), "claims_accepted": accepted_claims, "claims_confirmed": len(confirmed),
        "claims_failed": failed_claims,
        "claims_lost": accepted_claims - len(confirmed) + sum(1 for b in badges if b != 1),
        "claims_duplicated": claim_duplicates + sum(1 for b in badges if b > 1)
        + sum(1 for p in on_chain_points if p > POINTS),
        "wallet_views_equal_chain": sum(1 for (b, p), c in zip(views, on_chain_points) if b == 1 and p == c)
        == len(claimed),
        "claim_request_p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "claim_statuses": statuses(claim_records), "vote_statuses": statuses(vote_records),
        "votes": len(vote_records), "votes_accepted": len(accepted_votes), "votes_confirmed": confirmed_votes,
        "votes_lost": sum(1 for v in voted if not v),
        "votes_duplicated": max(0, against + for_ + abstain - POINTS * len(accepted_votes)) // POINTS,
        "tally_chain": {"for": for_, "against": against, "abstain": abstain},
        "tally_api_equals_chain": view_now["votes"] == {"for": for_, "against": against, "abstain": abstain},
        "reorgs": len(chaos.reorgs), "reorg_depths": sorted({r["depth"] for r in chaos.reorgs}),
        "settled_txs_taken_out_by_reorgs": sum(r["settled_txs_taken_out"] for r in chaos.reorgs),
        "reorg_errors": [r["error"] for r in chaos.reorgs if r["error"]],
        "rpc_faults_injected": sum(f["count"] for f in chaos.faults), "rpc_faults_served": served,
        "indexer_lag_max_s": max(probe.lags, default=None),
        "indexer_lag_p99_s": percentile(probe.lags, 99),
        "indexer_lag_limit_s": LAG_LIMIT_S,
        "health_degraded_samples": probe.degraded, "health_problems_seen": sorted(probe.health_problems),
        "reverted_transactions": [list(r) for r in reverted],
    }


def statuses(records: list[dict]) -> dict[str, int]:
    """How many requests got each HTTP status (0: no answer)."""
    counts: dict[str, int] = {}
    for record in records:
        counts[str(record["status"])] = counts.get(str(record["status"]), 0) + 1
    return counts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="soak: reorgs and RPC faults on 2 s blocks (docs/benchmarks.md)")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--votes", type=int, default=500)
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--settle-timeout", type=float, default=600)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    stop_on_signals()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print(f"soak: {args.minutes} min, {args.claims} claims, {args.votes} votes, reorgs up to {args.max_depth} "
          f"blocks, seed {seed}", flush=True)

    def write(result: dict) -> dict:
        print(f"soak: {json.dumps(result)}", flush=True)
        return finish("soak", "bench/soak.py", result, argv, args.out)

    result = soak(args.minutes, args.claims, args.votes, args.max_depth, seed, args.settle_timeout, write)
    failed = [k for k in ("claims_lost", "claims_duplicated", "votes_lost", "votes_duplicated") if result[k]]
    if failed or (result["indexer_lag_max_s"] or 0) > LAG_LIMIT_S or not result["tally_api_equals_chain"] \
            or not result["wallet_views_equal_chain"]:
        raise SystemExit(f"soak failed: {failed or 'indexer lag, or the API differs from the chain'}")
    return result


if __name__ == "__main__":
    main()
