"""One organization's flood against another's claims: is the relayer fair between organizations (issue #17)?

    python bench/flood.py [--events 500] [--codes 5000] [--b-members 300] [--b-rate 150] [--modes fair,unbounded]

Set-up (not measured): a stack of its own (bench/stack.py: Anvil on a free port with `make run`'s settings, a new
SQLite database, the API and the background worker as `make run` starts them); members created in the database
(organization A's claimants, B's two groups of `--b-members`, the organizers); organizations A and B created through
the API and approved by a steward (`Stack.approve`), their gas budgets raised (the sponsor's job); B's two events
created and waited for on chain.

Measured, in one run on one stack:

1. without the flood (the baseline): B's members claim B's first event with its secret word, `--b-rate` a second
   (an arrival schedule, up to `--b-clients` connections) from the load generator (bench/load.py, a separate
   process);
2. with the flood: A's organizer creates `--events` events and `--codes` single-use codes through the API (4
   connections), then A's members claim with those codes (the load generator, `--clients` connections). Once A's
   claims are arriving (A's events and batches queued in the relayer), B's other members claim B's second event,
   exactly as in 1. Then the run waits until A's flood has drained. The API limits events and code sheets to 50 an
   hour per organization (backend/platform/rate_limits.py): each 429 ends A's current windows in the database, as if
   the hour had passed (`a_rate_limit_windows_skipped`), so the relayer meets the backlog the limits would have spread
   over ten hours, as one left by a node outage or by an organization whose limits were raised would be.

For each B burst: accepted → confirmed p50/p99 (claims.created_at to confirmed_at, as the backend stored them).
Acceptance: B's p99 with the flood within 2x of without. Also: A's flood drained (every event created, every claim
confirmed), how many of A's transactions the relayer signed while B's burst was being confirmed, the relayer's wall
time per organization transaction while draining, lost and duplicated (database and chain) for both organizations.

`--modes fair,unbounded` adds a second stack whose worker runs bench/unbounded_relayer.py: the relayer as it was before
issue #17 (every event and every batch in one tick, votes after them), for comparison in the same run.
Writes bench/results/flood.json (`--out` to write elsewhere).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import func, or_, select, update  # noqa: E402

from backend.claims.models import Claim, ClaimStatus  # noqa: E402
from backend.events.models import Event  # noqa: E402
from backend.organizations.models import Organization  # noqa: E402
from backend.platform.models import GuessThrottle, OutboundTx  # noqa: E402
from backend.platform.orm import utcnow  # noqa: E402
from backend.relayer import timing  # noqa: E402
from bench.stack import (  # noqa: E402
    Member,
    Stack,
    chain_balances,
    finish,
    percentile,
    run_load,
    stop_on_signals,
    wait_until,
)

WORDS = ("hyakumangoku", "kenrokuen")  # B's two events
ORG_WORK = ("create_event", "issue")  # what an organization's own key signs
MODES = {"fair": None, "unbounded": "bench.unbounded_backend"}  # mode -> the worker's module (None: backend.worker)


def event_body(i: int, word: str | None = None) -> dict:
    now = datetime.now(timezone.utc)
    body = {"title_ja": f"金沢マラソン 給水 {i}", "title_en": f"Kanazawa Marathon water station {i}",
            "category": "volunteering", "venue": "金沢城公園", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=5)).isoformat(), "claim_start": (now - timedelta(hours=1)).isoformat(),
            "claim_end": (now + timedelta(days=1)).isoformat(), "capacity": 0, "points": 10}
    if word:
        body["secret_word"] = word
    return body


def organization(stack: Stack, organizer: Member, steward: Member, name_en: str, name_ja: str) -> int:
    """An organization through the API, approved by `steward`, its gas budget raised, registered on chain."""
    stack.verify(organizer)  # founding an organization needs a confirmed address
    org = httpx.post(f"{stack.api}/organizations", json={"name_ja": name_ja, "name_en": name_en},
                     headers={"Authorization": f"Bearer {organizer.token}"}, timeout=30).json()
    stack.approve(org["id"], steward)
    with stack.sessions.begin() as session:
        session.get(Organization, org["id"]).gas_budget = 10**15
    wait_until(lambda: _registered(stack, org["id"]), 60, f"organization {name_en} registered on chain", 0.2)
    return org["id"]


def _registered(stack: Stack, org_id: int) -> bool:
    with stack.sessions() as session:
        return bool(session.get(Organization, org_id).registered)


def claim_waits(stack: Stack, event_ids: set[int]) -> dict:
    """accepted → confirmed of the claims of `event_ids`, as the backend stored them."""
    with stack.sessions() as session:
        rows = session.execute(select(Claim.status, Claim.created_at, Claim.confirmed_at, OutboundTx.created_at)
                               .outerjoin(OutboundTx, OutboundTx.id == Claim.tx_id)
                               .where(Claim.event_id.in_(event_ids))).all()
    confirmed = [r for r in rows if r.status == ClaimStatus.confirmed]
    waits = [(r.confirmed_at - r.created_at).total_seconds() for r in confirmed]
    # accepted -> its batch signed: the batch window and the wait for the relayer's turn
    signed = [(r[3] - r.created_at).total_seconds() for r in confirmed if r[3] is not None]
    arrived = [r.created_at for r in rows]
    return {"claims": len(rows), "confirmed": len(waits),
            "p50_s": round(percentile(waits, 50), 2) if waits else None,
            "p99_s": round(percentile(waits, 99), 2) if waits else None,
            "max_s": round(max(waits), 2) if waits else None,
            "to_signed_p50_s": round(percentile(signed, 50), 2) if signed else None,
            "to_signed_p99_s": round(percentile(signed, 99), 2) if signed else None,
            "accepted_over_s": round((max(arrived) - min(arrived)).total_seconds(), 2) if arrived else None}


def settled(stack: Stack, event_ids: set[int] | None = None) -> bool:
    query = select(func.count()).select_from(Claim).where(Claim.status.in_((ClaimStatus.accepted,
                                                                             ClaimStatus.submitted)))
    if event_ids is not None:
        query = query.where(Claim.event_id.in_(event_ids))
    with stack.sessions() as session:
        return not session.scalar(query)


def b_burst(stack: Stack, members: list[Member], event: dict, word: str, clients: int, rate: float) -> list[dict]:
    """B's members claim at `rate` a second (an arrival schedule, the same in both of B's bursts: with a closed loop,
    the API's work for A's claims would slow B's arrivals, and B's batches would fill differently)."""
    requests = [{"method": "POST", "path": f"/api/events/{event['id']}/claims", "token": m.token,
                 "json": {"method": "word", "secret": word}, "at": i / rate} for i, m in enumerate(members)]
    return run_load({"base": stack.base, "concurrency": clients, "deadline_s": 300, "timeout_s": 60,
                     "requests": requests}, timeout=300)


class Flood(threading.Thread):
    """Organization A's script: `events` events and `codes` codes through the API (4 connections), then every
    member of A claims one code through the load generator. `claiming` is set when A's claims start."""

    def __init__(self, stack: Stack, organizer: Member, org_id: int, members: list[Member], events: int,
                 codes: int, clients: int):
        super().__init__(name="flood", daemon=True)
        self.stack, self.organizer, self.org_id, self.members = stack, organizer, org_id, members
        self.events, self.codes, self.clients = events, codes, clients
        self.claiming = threading.Event()
        self.event_ids: list[int] = []
        self.records: list[dict] = []
        self.started = self.claims_started = self.claims_sent = 0.0
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.windows_skipped = 0  # rate-limit windows ended early (see _post)

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            self.claiming.set()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.organizer.token}"}
        self.started = time.time()
        with httpx.Client(base_url=self.stack.api, headers=headers, timeout=120) as http, \
                ThreadPoolExecutor(4) as pool:
            def create(i: int) -> int:
                response = self._post(http, f"/organizations/{self.org_id}/events", event_body(i))
                return response.json()["id"]

            self.event_ids = list(pool.map(create, range(self.events)))
            per_event = [self.codes // self.events + (1 if i < self.codes % self.events else 0)
                         for i in range(self.events)]

            def make_codes(pair: tuple[int, int]) -> list[tuple[int, str]]:
                event_id, count = pair
                if not count:
                    return []
                response = self._post(http, f"/events/{event_id}/codes", {"count": count})
                return [(event_id, url.split("#c=", 1)[1]) for url in response.json()["claim_urls"]]

            secrets = [c for batch in pool.map(make_codes, zip(self.event_ids, per_event)) for c in batch]
        requests = [{"method": "POST", "path": f"/api/events/{event_id}/claims", "token": m.token,
                     "json": {"method": "code", "secret": secret}}
                    for m, (event_id, secret) in zip(self.members, secrets)]
        self.claims_started = time.time()
        self.claiming.set()
        self.records = run_load({"base": self.stack.base, "concurrency": self.clients, "deadline_s": 600,
                                 "timeout_s": 60, "requests": requests}, timeout=600)
        self.claims_sent = time.time()

    def _post(self, http: httpx.Client, path: str, body: dict) -> httpx.Response:
        """POST as A's organizer. The API limits events and code sheets per organization and per account (50 an hour:
        backend/platform/rate_limits.py); a refusal (429) ends the current window of A's counters in the database, as
        if the hour had passed, and the request is sent again: the run stands for a backlog that the limits would have
        spread over ten hours, or that an organization whose limits were raised, or a node outage, leaves behind."""
        while True:
            response = http.post(path, json=body)
            if response.status_code != 429:
                response.raise_for_status()
                return response
            with self.stack.sessions.begin() as session:
                session.execute(update(GuessThrottle).where(or_(*(GuessThrottle.key.like(f"{kind}:%") for kind in
                                                                  ("events", "code_sheets"))))
                                .values(window_start=utcnow() - timedelta(days=2)))
            with self.lock:
                self.windows_skipped += 1


def flood_run(mode: str, events: int, codes: int, b_members: int, clients: int, b_clients: int, b_rate: float,
              b_delay: float, drain_timeout: float) -> dict:
    with Stack(worker_module=MODES[mode]) as stack:
        organizer_a, organizer_b, steward = stack.add_members(3, prefix="organizer")
        a_members = stack.add_members(codes, prefix="a")
        b_first = stack.add_members(b_members, prefix="b1-")
        b_second = stack.add_members(b_members, prefix="b2-")
        stack.start()
        org_a = organization(stack, organizer_a, steward, "Kanazawa Marathon", "金沢マラソン")
        org_b = organization(stack, organizer_b, steward, "Omicho Market", "近江町市場")
        b_events = []
        for i, word in enumerate(WORDS):
            response = httpx.post(f"{stack.api}/organizations/{org_b}/events", json=event_body(i, word), timeout=30,
                                  headers={"Authorization": f"Bearer {organizer_b.token}"})
            response.raise_for_status()
            b_events.append(response.json())
        b_events = [wait_until(lambda e=e: (got := httpx.get(f"{stack.api}/events/{e['id']}", timeout=10).json())
                               ["token_id"] is not None and got, 60, f"B's event {e['id']} on chain", 0.2)
                    for e in b_events]

        # 1. B's burst alone
        print(f"flood [{mode}]: B's {b_members} claims without the flood", flush=True)
        baseline_records = b_burst(stack, b_first, b_events[0], WORDS[0].upper(), b_clients, b_rate)
        wait_until(lambda: settled(stack, {b_events[0]["id"]}), 120, "B's baseline claims settled", 0.2)
        baseline = claim_waits(stack, {b_events[0]["id"]})

        # 2. the same burst while A floods
        print(f"flood [{mode}]: A creates {events} events and {codes} codes and claims; B's {b_members} claims "
              f"{b_delay} s after A's claims start", flush=True)
        flood = Flood(stack, organizer_a, org_a, a_members, events, codes, clients)
        flood.start()
        flood.claiming.wait()
        if flood.error:
            raise flood.error
        time.sleep(b_delay)
        b_started = time.time()
        flooded_records = b_burst(stack, b_second, b_events[1], WORDS[1].upper(), b_clients, b_rate)
        wait_until(lambda: settled(stack, {b_events[1]["id"]}), 300, "B's claims during the flood settled", 0.2)
        b_settled = time.time()
        flood.join(timeout=drain_timeout)
        if flood.error:
            raise flood.error
        a_events = set(flood.event_ids)
        wait_until(lambda: settled(stack) and _all_created(stack, a_events), drain_timeout, "A's flood drained", 0.5)
        drained = time.time()
        with_flood = claim_waits(stack, {b_events[1]["id"]})

        with stack.sessions() as session:
            a_txs = session.execute(select(OutboundTx.purpose, OutboundTx.created_at, OutboundTx.sender)
                                    .where(OutboundTx.organization_id == org_a, OutboundTx.purpose.in_(ORG_WORK))
                                    .order_by(OutboundTx.id)).all()
            b_senders = set(session.scalars(select(OutboundTx.sender).where(OutboundTx.organization_id == org_b,
                                                                            OutboundTx.purpose.in_(ORG_WORK))))
            issuers = dict(session.execute(select(Organization.id, Organization.issuer_address)).all())
            b_confirmed = session.execute(select(func.min(Claim.created_at), func.max(Claim.confirmed_at))
                                          .where(Claim.event_id == b_events[1]["id"])).one()
            a_last_confirmed = session.scalar(select(func.max(Claim.confirmed_at)).join(Event)
                                              .where(Event.organization_id == org_a))
            a_claims = session.execute(select(Claim.status, func.count()).join(Event)
                                       .where(Event.organization_id == org_a).group_by(Claim.status)).all()
            token_of = dict(session.execute(select(Event.id, Event.token_id)).all())
            everyone = session.execute(select(Claim.recipient, Claim.event_id, Claim.status)).all()
            db_duplicates = session.scalar(select(func.count()).select_from(
                select(Claim.user_id, Claim.event_id).where(Claim.status == ClaimStatus.confirmed)
                .group_by(Claim.user_id, Claim.event_id).having(func.count() > 1).subquery()))
        balances = chain_balances(stack.contract("ParticipationBadges"),
                                  [(r.recipient, token_of[r.event_id]) for r in everyone])
        lost = sum(1 for r, b in zip(everyone, balances) if r.status != ClaimStatus.confirmed or b == 0)
        duplicated = db_duplicates + sum(1 for b in balances if b > 1)
        # A's transactions signed while B's flood-time claims waited (first stored .. last confirmed)
        window = [tx for tx in a_txs if b_confirmed[0] <= tx.created_at <= b_confirmed[1]]
        a_signed = [_epoch(tx.created_at) for tx in a_txs]
        statuses: dict[str, int] = {}
        for record in flood.records + baseline_records + flooded_records:
            statuses[str(record["status"])] = statuses.get(str(record["status"]), 0) + 1
        return {
            "b_members": b_members, "a_events": events, "a_codes": codes,
            "baseline_b_claims": baseline["claims"], "baseline_b_confirmed": baseline["confirmed"],
            "baseline_b_p50_s": baseline["p50_s"], "baseline_b_p99_s": baseline["p99_s"],
            "baseline_b_max_s": baseline["max_s"], "baseline_b_to_signed_p50_s": baseline["to_signed_p50_s"],
            "baseline_b_to_signed_p99_s": baseline["to_signed_p99_s"],
            "baseline_b_accepted_over_s": baseline["accepted_over_s"],
            "flood_b_claims": with_flood["claims"], "flood_b_confirmed": with_flood["confirmed"],
            "flood_b_p50_s": with_flood["p50_s"], "flood_b_p99_s": with_flood["p99_s"],
            "flood_b_max_s": with_flood["max_s"], "flood_b_to_signed_p50_s": with_flood["to_signed_p50_s"],
            "flood_b_to_signed_p99_s": with_flood["to_signed_p99_s"],
            "flood_b_accepted_over_s": with_flood["accepted_over_s"],
            "p99_ratio": round(with_flood["p99_s"] / baseline["p99_s"], 2)
            if with_flood["p99_s"] and baseline["p99_s"] else None,
            "baseline_b_request_p99_ms": _request_p99(baseline_records),
            "flood_b_request_p99_ms": _request_p99(flooded_records),
            "a_claims_accepted": sum(1 for r in flood.records if r["status"] == 202),
            "a_rate_limit_windows_skipped": flood.windows_skipped,
            "a_claims_by_status": {status.value: count for status, count in a_claims},
            "a_events_created": sum(1 for e in a_events if token_of.get(e) is not None),
            "a_transactions": len(a_txs),
            "a_transactions_while_b_waited": len(window),
            "b_burst_started_after_a_claims_s": round(b_started - flood.claims_started, 2),
            "b_settled_after_flood_start_s": round(b_settled - flood.started, 2),
            "a_drained_after_flood_start_s": round(drained - flood.started, 2),
            "a_last_confirmed_after_flood_start_s": round(_epoch(a_last_confirmed) - flood.started, 2)
            if a_last_confirmed else None,
            # the relayer's wall time per organization transaction while A's backlog drained (ticks back to back)
            "org_tx_ms": round((a_signed[-1] - a_signed[0]) * 1000 / (len(a_signed) - 1), 1)
            if len(a_signed) > 1 else None,
            "b_signed_by_b_key_only": b_senders == {issuers[org_b]},
            "a_signed_by_a_key_only": {tx.sender for tx in a_txs} == {issuers[org_a]},
            "lost": lost, "duplicated": duplicated,
            **{f"answers_{status}": count for status, count in sorted(statuses.items())},
        }


def _request_p99(records: list[dict]) -> float | None:
    latencies = [(r["end"] - r["start"]) * 1000 for r in records if r["status"] == 202]
    return round(percentile(latencies, 99), 1) if latencies else None


def _all_created(stack: Stack, event_ids: set[int]) -> bool:
    with stack.sessions() as session:
        return not session.scalar(select(func.count()).select_from(Event)
                                  .where(Event.id.in_(event_ids), Event.token_id.is_(None)))


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="one organization's flood against another's claims "
                                                 "(docs/benchmarks.md)")
    parser.add_argument("--events", type=int, default=500, help="events organization A creates")
    parser.add_argument("--codes", type=int, default=5000, help="codes A creates, and A's members who claim them")
    parser.add_argument("--b-members", type=int, default=300, help="B's members who claim, in each of B's bursts")
    parser.add_argument("--clients", type=int, default=50, help="connections of A's claims")
    parser.add_argument("--b-clients", type=int, default=50, help="connections of B's claims")
    parser.add_argument("--b-rate", type=float, default=150.0, help="B's claims per second, in both bursts")
    parser.add_argument("--b-delay", type=float, default=2.0, help="seconds after A's claims start that B's start")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--modes", default="fair", help="fair (the relayer as it ships), unbounded (before #17)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here instead of bench/results/")
    args = parser.parse_args(argv)
    stop_on_signals()
    result: dict = {"org_txs_per_tick": timing.ORG_TXS_PER_TICK, "org_txs_in_flight": timing.ORG_TXS_IN_FLIGHT,
                    "b_rate": args.b_rate}
    for mode in args.modes.split(","):
        figures = flood_run(mode, args.events, args.codes, args.b_members, args.clients, args.b_clients,
                            args.b_rate, args.b_delay, args.drain_timeout)
        print(f"flood [{mode}]: {json.dumps(figures)}", flush=True)
        prefix = "" if mode == "fair" else f"{mode}_"
        result.update({f"{prefix}{k}": v for k, v in figures.items()})
    if result.get("p99_ratio") is not None:
        result["p99_within_2x"] = result["p99_ratio"] <= 2.0
    return finish("flood", "bench/flood.py", result, argv, args.out)


if __name__ == "__main__":
    main()
