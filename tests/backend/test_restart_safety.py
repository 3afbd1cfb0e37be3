"""SIGKILL of the backend while claims are being relayed, then a restart: every accepted claim ends confirmed once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from brownie import web3

from tests.backend.conftest import event_body
from tests.helpers.processes import free_port

ATTENDEES = 40


class Server:
    def __init__(self, project_root, env: dict, port: int, log):
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=project_root, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}/api"  # the JSON API
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("backend did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def signup(url: str) -> dict:
    email = f"kill-{time.time_ns()}-{os.getpid()}@example.jp"
    token = httpx.post(f"{url}/auth/signup", json={"email": email, "password": "password-123"}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_sigkill_while_relaying_loses_and_duplicates_nothing(project_root, settings, suite, tmp_path):
    env = {
        "KYOSO_ENVIRONMENT": "test", "DATABASE_URL": settings.database_url, "RPC_URL": settings.rpc_url,
        "KYOSO_CHAIN_ID": "31337", "KYOSO_DEPLOYMENTS_DIR": str(settings.deployments_dir),
        "KYOSO_PUBLIC_BASE_URL": "http://testserver",
    }
    port = free_port()
    with open(tmp_path / "backend.log", "ab") as log:
        server = Server(project_root, env, port, log)
        try:
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
            urls = httpx.post(f"{server.url}/events/{event['id']}/codes", json={"count": ATTENDEES},
                              headers=organizer).json()["claim_urls"]
            with ThreadPoolExecutor(8) as pool:
                attendees = list(pool.map(lambda _: signup(server.url), range(ATTENDEES)))
                responses = list(pool.map(
                    lambda pair: httpx.post(f"{server.url}/events/{event['id']}/claims",
                                            json={"method": "code", "secret": pair[1].split("c=")[1]},
                                            headers=pair[0], timeout=30),
                    zip(attendees, urls)))
            assert [r.status_code for r in responses] == [202] * ATTENDEES
            # kill as soon as the relayer has sent something, before everything is confirmed
            claims = [(headers, r.json()["id"]) for headers, r in zip(attendees, responses)]
            while True:
                states = {httpx.get(f"{server.url}/claims/{cid}", headers=h).json()["status"] for h, cid in claims[:5]}
                if states & {"submitted", "confirmed"}:
                    break
                time.sleep(0.05)
            server.kill()
        finally:
            server.stop()

        supply_before_restart = suite.points.totalSupply()
        server = Server(project_root, env, port, log)
        try:
            deadline = time.monotonic() + 90
            while True:
                statuses = [httpx.get(f"{server.url}/claims/{cid}", headers=h).json()["status"] for h, cid in claims]
                if all(s == "confirmed" for s in statuses) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert statuses == ["confirmed"] * ATTENDEES
            addresses = [httpx.get(f"{server.url}/me", headers=h).json()["wallet_address"] for h, _ in claims]
        finally:
            server.stop()
    assert list(suite.badges.balanceOfBatch(addresses, [token_id] * ATTENDEES)) == [1] * ATTENDEES
    assert sum(suite.points.balanceOf(a) for a in addresses) == 7 * ATTENDEES
    assert suite.points.totalSupply() >= supply_before_restart
    assert web3.eth.get_transaction_count(org["issuer_address"]) >= 2
