"""SIGKILL of the backend at random moments while a burst of claims is accepted and relayed, five times, then a
restart: every accepted claim ends confirmed exactly once (one badge, points once)."""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from brownie import web3
from sqlalchemy import create_engine, func, select

from backend.models import Claim, OutboundTx
from tests.backend.conftest import event_body
from tests.helpers.processes import Backend, free_port, signup

# `make bench-faults` runs the longer variant (more claims, more kills, another seed).
ATTENDEES = int(os.environ.get("KYOSO_FAULT_CLAIMS", "60"))
KILLS = int(os.environ.get("KYOSO_FAULT_KILLS", "5"))
SEED = int(os.environ.get("KYOSO_FAULT_SEED", "20261201"))  # random kill moments, the same on every run


def claim_until_answered(url: str, headers: dict, event_id: int, secret: str, stop_at: float) -> int:
    """What a phone does: send the claim, and send it again while the server does not answer. Returns the claim id
    (202, or 409 naming the claim a lost answer had already stored)."""
    while time.monotonic() < stop_at:
        try:
            response = httpx.post(f"{url}/events/{event_id}/claims", json={"method": "code", "secret": secret},
                                  headers=headers, timeout=10)
        except httpx.HTTPError:
            time.sleep(0.3)
            continue
        assert response.status_code < 500, response.text  # a crash is a lost answer, never a server error
        if response.status_code == 202:
            return response.json()["id"]
        assert response.status_code == 409 and response.json()["error"] == "already_claimed", response.text
        return response.json()["claim_id"]
    raise AssertionError("a claim was never answered")


def test_sigkill_five_times_during_a_burst_loses_and_duplicates_nothing(project_root, settings, suite, tmp_path):
    env = {
        "KYOSO_ENVIRONMENT": "test", "DATABASE_URL": settings.database_url, "RPC_URL": settings.rpc_url,
        "KYOSO_CHAIN_ID": "31337", "KYOSO_DEPLOYMENTS_DIR": str(settings.deployments_dir),
        "KYOSO_PUBLIC_BASE_URL": "http://testserver",
    }
    port, rng = free_port(), random.Random(SEED)
    print(f"kill moments from seed {SEED} (KYOSO_FAULT_SEED)")
    with open(tmp_path / "backend.log", "ab") as log:
        server = Backend(project_root, env, port, log)
        organizer = signup(server.url)
        org = httpx.post(f"{server.url}/organizations", json={"name_ja": "NPO", "name_en": "NPO"},
                         headers=organizer).json()
        event = httpx.post(f"{server.url}/organizations/{org['id']}/events", json=event_body(points=7),
                           headers=organizer).json()
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/events/{event['id']}").json()["token_id"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        token_id = httpx.get(f"{server.url}/events/{event['id']}").json()["token_id"]
        secrets = [u.split("c=")[1] for u in httpx.post(
            f"{server.url}/events/{event['id']}/codes", json={"count": ATTENDEES}, headers=organizer).json()["claim_urls"]]
        with ThreadPoolExecutor(8) as pool:
            attendees = list(pool.map(lambda _: signup(server.url), range(ATTENDEES)))

        stop_at = time.monotonic() + 120 + ATTENDEES  # generous: each restart waits out the lease
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(claim_until_answered, server.url, h, event["id"], s, stop_at)
                       for h, s in zip(attendees, secrets)]
            kills: list[float] = []
            for _ in range(KILLS):  # kill at random moments of the burst, and start again as an operator would
                time.sleep(rng.uniform(0.2, 1.5))
                server.kill()
                kills.append(sum(f.done() for f in futures) / ATTENDEES)
                time.sleep(rng.uniform(0.0, 0.5))
                server = Backend(project_root, env, port, log)
            claim_ids = [f.result() for f in futures]
        try:
            deadline = time.monotonic() + 60 + ATTENDEES
            while True:
                statuses = [httpx.get(f"{server.url}/claims/{cid}", headers=h).json()["status"]
                            for h, cid in zip(attendees, claim_ids)]
                if all(s == "confirmed" for s in statuses) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert statuses == ["confirmed"] * ATTENDEES, kills
            addresses = [httpx.get(f"{server.url}/me", headers=h).json()["wallet_address"] for h in attendees]
        finally:
            server.stop()
    assert list(suite.badges.balanceOfBatch(addresses, [token_id] * ATTENDEES)) == [1] * ATTENDEES
    assert sum(suite.points.balanceOf(a) for a in addresses) == 7 * ATTENDEES  # points once, never twice
    engine = create_engine(settings.database_url)
    with engine.connect() as db:
        assert db.scalar(select(func.count()).select_from(Claim).where(Claim.event_id == event["id"])) == ATTENDEES
        nonces = db.scalars(select(OutboundTx.nonce).where(OutboundTx.sender == org["issuer_address"])
                            .order_by(OutboundTx.nonce)).all()
    engine.dispose()
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))  # no nonce used twice or skipped
    assert web3.eth.get_transaction_count(org["issuer_address"]) == nonces[-1] + 1
