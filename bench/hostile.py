"""Hostile recipients in a festival burst: the same burst with 1% of the claims made by members whose own wallet turns
badges down, and without them, in one run.

    python bench/hostile.py [--claims 3000] [--share 0.01] [--events 4] [--clients 100] [--out PATH]

Each half gets a stack of its own (bench/stack.py: Anvil, suite, database, uvicorn and the background worker). The
hostile members are own-wallet members (as Sign-In with Ethereum leaves them) whose address is a HostileReceiver
contract (contracts/testing/): every other one refuses in its hook, the rest burn all the gas the hook is given. They
are spread evenly through the burst, so that nearly every batch of 100 holds one. The relayer sorts each such batch
out (backend/relayer/service.py `_sort_out_claims`): the hostile claims fail with their hook's reason, the others go
out together.

Measured per half: confirmed_per_s (confirmed claims / time from the first request to the last confirmation),
last_settled_after_s (the last claim confirmed or failed, after the last answer), p50/p99 from accepted to confirmed,
issue transactions, the honest claims lost (accepted but not confirmed, or without the badge on chain), hostile
claims not failed, badges held twice; and the cost of the hostile share: the with/without ratio of the rates and the
extra issue transactions. Writes bench/results/hostile.json (`--out` to write elsewhere).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from backend.accounts.models import User, WalletKind  # noqa: E402
from backend.claims.models import Claim, ClaimStatus  # noqa: E402
from backend.platform.models import OutboundTx  # noqa: E402
from bench.stack import (  # noqa: E402
    Stack,
    answered_window,
    chain_balances,
    finish,
    percentile,
    run_load,
    stop_on_signals,
    wait_settled,
)
from scripts.suite import BUILD  # noqa: E402

WORDS = ["hyakumangoku", "kenrokuen", "higashichaya", "omicho", "kanazawa", "utatsuyama", "nagamachi", "asanogawa"]
REFUSE, BURN_GAS = 0, 1


def deploy_hostile_wallets(stack: Stack, count: int) -> list[str]:
    """`count` HostileReceiver contracts, alternately refusing and burning their hook's gas, deployed by a dev key."""
    artifact = json.loads((BUILD / "HostileReceiver.json").read_text())
    w3 = stack.chain.w3
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    deployer = w3.eth.accounts[9]  # not the registrar's, the relayer's or the suite deployer's key
    hashes = [factory.constructor(deployer, REFUSE if i % 2 == 0 else BURN_GAS).transact({"from": deployer})
              for i in range(count)]
    return [w3.eth.wait_for_transaction_receipt(h)["contractAddress"] for h in hashes]


def make_own_wallets(stack: Stack, members, addresses: list[str]) -> None:
    """The members become own-wallet members at `addresses`, as a Sign-In with Ethereum log-in leaves them (no
    custodial key)."""
    with stack.sessions.begin() as session:
        for member, address in zip(members, addresses):
            user = session.get(User, member.user_id)
            session.delete(user.custodial_key)
            user.wallet_address, user.wallet_kind = address, WalletKind.own
            member.address = address


def half(share: float, claims: int, events: int, clients: int, timeout: float) -> dict:
    with Stack() as stack:
        organizer, *members = stack.add_members(claims + 1)
        hostile_count = round(claims * share)
        step = claims // hostile_count if hostile_count else 0
        hostile = [members[i * step + step // 2] for i in range(hostile_count)]
        make_own_wallets(stack, hostile, deploy_hostile_wallets(stack, hostile_count))
        hostile_ids = {m.user_id for m in hostile}
        stack.start()
        _org, evs = stack.organization_with_events(organizer, events, words=WORDS[:events])
        requests = [{"method": "POST", "path": f"/api/events/{evs[i % events]['id']}/claims", "token": m.token,
                     "json": {"method": "word", "secret": WORDS[i % events]}} for i, m in enumerate(members)]
        records = run_load({"base": stack.base, "concurrency": clients, "deadline_s": max(120, claims / 10),
                            "timeout_s": 60, "requests": requests}, timeout=max(120, claims / 10))
        accepted = {r["id"]: i for i, r in enumerate(records) if r["status"] == 202}
        first, last_answer = answered_window(records)
        wait_settled(stack, Claim.status, (ClaimStatus.accepted, ClaimStatus.submitted), timeout)
        with stack.sessions() as session:
            rows = session.execute(select(Claim.id, Claim.user_id, Claim.status, Claim.created_at,
                                          Claim.confirmed_at)).all()
            txs = session.scalar(select(func.count()).select_from(OutboundTx).where(OutboundTx.purpose == "issue"))
        token_of = {e["id"]: e["token_id"] for e in evs}
        by_id = {r.id: r for r in rows}
        balances = chain_balances(stack.contract("ParticipationBadges"),
                                  [(m.address, token_of[evs[i % events]["id"]]) for i, m in enumerate(members)])
        honest = {cid: i for cid, i in accepted.items() if members[i].user_id not in hostile_ids}
        confirmed = [r for r in rows if r.status == ClaimStatus.confirmed]
        settled_at = [r.confirmed_at.timestamp() for r in confirmed]
        last_confirmed = max(settled_at, default=None)
        waits = [(r.confirmed_at - r.created_at).total_seconds() for r in confirmed]
        failed = [r for r in rows if r.status == ClaimStatus.failed]
        return {
            "claims": claims, "hostile": hostile_count, "accepted": len(accepted), "confirmed": len(confirmed),
            "failed": len(failed), "hostile_failed": sum(1 for r in failed if r.user_id in hostile_ids),
            "honest_failed": sum(1 for r in failed if r.user_id not in hostile_ids),
            "issue_transactions": txs,
            "confirmed_per_s": round(len(confirmed) / (last_confirmed - first), 1) if last_confirmed else 0.0,
            "last_confirmed_after_s": round(last_confirmed - last_answer, 2) if last_confirmed else None,
            "p50_accepted_to_confirmed_s": round(percentile(waits, 50), 2) if waits else None,
            "p99_accepted_to_confirmed_s": round(percentile(waits, 99), 2) if waits else None,
            "honest_lost": sum(1 for cid, i in honest.items()
                               if by_id.get(cid) is None or by_id[cid].status != ClaimStatus.confirmed
                               or balances[i] == 0),
            "hostile_not_failed": sum(1 for r in rows if r.user_id in hostile_ids and r.status != ClaimStatus.failed),
            "duplicated": sum(1 for b in balances if b > 1),
        }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="hostile recipients in a burst (docs/benchmarks.md)")
    parser.add_argument("--claims", type=int, default=3000)
    parser.add_argument("--share", type=float, default=0.01, help="share of the claims made by hostile wallets")
    parser.add_argument("--events", type=int, default=4)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--confirm-timeout", type=float, default=None, help="default: claims / 5, >= 120")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here instead of bench/results/")
    args = parser.parse_args(argv)
    stop_on_signals()
    timeout = args.confirm_timeout or max(120.0, args.claims / 5)
    result: dict = {"claims": args.claims, "share": args.share}
    for name, share in (("clean", 0.0), ("hostile", args.share)):
        print(f"hostile: {name}, {args.claims} claims, {share:.0%} hostile", flush=True)
        figures = half(share, args.claims, args.events, args.clients, timeout)
        print(f"hostile: {name}: {json.dumps(figures)}", flush=True)
        result.update({f"{name}_{k}": v for k, v in figures.items() if k != "claims"})
    if result["clean_confirmed_per_s"]:
        result["confirmed_per_s_ratio"] = round(result["hostile_confirmed_per_s"] / result["clean_confirmed_per_s"], 3)
    result["extra_issue_transactions"] = result["hostile_issue_transactions"] - result["clean_issue_transactions"]
    return finish("hostile", "bench/hostile.py", result, argv, args.out)


if __name__ == "__main__":
    main()
