"""Scale-out on PostgreSQL: two backend processes on one database serve the same burst of claims behind different
ports. Both accept claims; exactly one runs the relayer (a lease in the database); when it is killed, the other takes
over within seconds, and every accepted claim is confirmed exactly once."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from backend.claims.models import Claim
from backend.platform.models import OutboundTx, ServiceLease
from backend.platform.lease import LEASE_TTL_S
from scripts.suite import deploy_registry
from tests.backend.conftest import event_body
from tests.helpers.claims import claim_statuses, claim_until_answered, event_on_chain
from tools.devstack.postgres import PostgresServer
from tools.devstack.processes import Anvil, Backend, free_port, signup

RELAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ATTENDEES = int(os.environ.get("KYOSO_FAULT_CLAIMS", "60"))  # more in `make bench-faults`


@pytest.fixture
def postgres():
    server = PostgresServer()
    yield server
    server.stop()


def lease_holder_pid(engine, name: str) -> int | None:
    with engine.connect() as db:
        holder = db.scalar(select(ServiceLease.holder).where(ServiceLease.name == name,
                                                             ServiceLease.expires_at > func.now()))
    return int(holder.split(":")[1]) if holder else None


def test_two_processes_on_postgresql_one_relayer_and_a_takeover(project_root, postgres, tmp_path):
    chain = Anvil(project_root, "--chain-id", "31337")
    engine = create_engine(postgres.url)
    try:
        (tmp_path / "deployments").mkdir()
        (tmp_path / "deployments" / "31337.json").write_text(json.dumps(deploy_registry(chain.w3, RELAYER)))
        env = {"KYOSO_ENVIRONMENT": "test", "DATABASE_URL": postgres.url, "RPC_URL": chain.url,
               "KYOSO_CHAIN_ID": "31337", "KYOSO_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
               "KYOSO_PUBLIC_BASE_URL": "http://testserver"}
        with open(tmp_path / "a.log", "ab") as log_a, open(tmp_path / "b.log", "ab") as log_b:
            # started together: one migrates the database, the other waits for it
            with ThreadPoolExecutor(2) as pool:
                a, b = pool.map(lambda p: Backend(project_root, env, free_port(), p), (log_a, log_b))
            try:
                servers = {a.proc.pid: a, b.proc.pid: b}
                active_pid = None
                deadline = time.monotonic() + 30
                while active_pid is None:
                    assert time.monotonic() < deadline, "no process took the relayer's lease"
                    active_pid = lease_holder_pid(engine, "relayer")
                    time.sleep(0.2)
                active = servers[active_pid]
                standby = b if active is a else a
                assert httpx.get(f"{standby.url}/health").json()["database_backend"] == "postgresql"

                organizer = signup(standby.url)  # the standby serves the API like the active one
                org, event, token_id, secrets = event_on_chain(
                    standby.url, organizer, {"name_ja": "金沢工芸協会", "name_en": "Kanazawa Crafts Guild"},
                    event_body(points=3), ATTENDEES, database_url=postgres.url, project_root=project_root)
                with ThreadPoolExecutor(8) as pool:
                    members = list(pool.map(lambda i: signup((a, b)[i % 2].url), range(ATTENDEES)))

                holders: list[int | None] = []
                watching = threading.Event()

                def watch():  # who holds the relayer's lease, all through the burst
                    while not watching.is_set():
                        holders.append(lease_holder_pid(engine, "relayer"))
                        time.sleep(0.1)

                watcher = threading.Thread(target=watch)
                watcher.start()
                with ThreadPoolExecutor(8) as pool:
                    futures = [pool.submit(claim_until_answered, [(a, b)[i % 2].url, (b, a)[i % 2].url],
                                           members[i], event["id"], secrets[i], 120)
                               for i in range(ATTENDEES)]
                    while sum(f.done() for f in futures) < ATTENDEES // 2:
                        time.sleep(0.02)
                    active.kill()  # the relayer's process dies in the middle of the burst
                    killed_at = time.monotonic()
                    claim_ids = [f.result() for f in futures]
                deadline = time.monotonic() + 30
                while lease_holder_pid(engine, "relayer") != standby.proc.pid:
                    assert time.monotonic() < deadline, "the standby never took over the relayer"
                    time.sleep(0.1)
                takeover_s = time.monotonic() - killed_at
                print(f"relayer taken over {takeover_s:.1f} s after the kill (lease {LEASE_TTL_S} s)")
                statuses = claim_statuses(standby.url, members, claim_ids, timeout=60 + ATTENDEES)
                watching.set()
                watcher.join()
                assert statuses == ["confirmed"] * ATTENDEES
                addresses = [httpx.get(f"{standby.url}/me", headers=h).json()["wallet_address"] for h in members]
            finally:
                for server in (a, b):
                    server.stop()
        # one holder at a time: the active process until it died, then the standby, never both or back
        observed = [h for h in holders if h is not None]
        assert [h for i, h in enumerate(observed) if i == 0 or h != observed[i - 1]] == [active_pid, standby.proc.pid]
        badges = chain.w3.eth.contract(address=json.loads((tmp_path / "deployments" / "31337.json").read_text())
                                       ["contracts"]["ParticipationBadges"]["address"],
                                       abi=_badges_abi())
        assert badges.functions.balanceOfBatch(addresses, [token_id] * ATTENDEES).call() == [1] * ATTENDEES
        with engine.connect() as db:
            assert db.scalar(select(func.count()).select_from(Claim)) == ATTENDEES  # none lost, none twice
            nonces = db.scalars(select(OutboundTx.nonce).where(OutboundTx.sender == org["issuer_address"])
                                .order_by(OutboundTx.nonce)).all()
        assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))  # one writer per key, even across a takeover
    finally:
        engine.dispose()
        chain.stop()


def _badges_abi():
    from backend.platform.chain.contracts import abi

    return abi("ParticipationBadges")
