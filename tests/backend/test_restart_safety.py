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

from backend.claims.models import Claim
from backend.platform.models import OutboundTx
from tests.backend.conftest import event_body
from tests.helpers.claims import claim_statuses, claim_until_answered
from tools.devstack.processes import Backend, free_port, signup, steward, verify

# `make bench-faults` runs the longer variant (more claims, more kills, another seed).
ATTENDEES = int(os.environ.get("KYOSO_FAULT_CLAIMS", "60"))
KILLS = int(os.environ.get("KYOSO_FAULT_KILLS", "5"))
SEED = int(os.environ.get("KYOSO_FAULT_SEED", "20261201"))  # random kill moments, the same on every run


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
        organizer = verify(server.url, signup(server.url), settings.database_url, project_root)
        org = httpx.post(f"{server.url}/organizations", json={"name_ja": "NPO", "name_en": "NPO"},
                         headers=organizer).json()
        approved = httpx.post(f"{server.url}/organizations/{org['id']}/approve",
                              headers=steward(server.url, settings.database_url, project_root))
        assert approved.status_code == 200, approved.text
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

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(claim_until_answered, [server.url], h, event["id"], s, 120 + ATTENDEES)
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
            statuses = claim_statuses(server.url, attendees, claim_ids, timeout=60 + ATTENDEES)
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
