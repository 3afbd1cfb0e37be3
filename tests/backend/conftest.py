"""The backend against the real Anvil of the test network and the real deployed contracts, with a real SQLite file.

The suite is deployed once per module; every test gets a new database and a running app (relayer and indexer
threads included), as `make run` serves it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
from brownie import accounts, web3
from fastapi.testclient import TestClient

from backend.accounts import service as accounts_service
from backend.app import create_app
from backend.platform.config import ANVIL_DEV_KEY_1, Settings
from tools.devstack.processes import wait_for  # noqa: F401 - tests import it from here

API_BASE = "http://testserver/api"  # TestClient requests are relative to the JSON API
from scripts.kyoso_suite import GovernanceSettings, deploy_suite

RELAYER_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # Anvil dev account 1 (ANVIL_DEV_KEY_1)


@pytest.fixture(scope="module")
def suite():
    assert accounts[1].address == RELAYER_ADDRESS
    return deploy_suite(accounts[0], RELAYER_ADDRESS, GovernanceSettings())


@pytest.fixture(scope="module")
def registry_dir(suite, tmp_path_factory):
    directory = tmp_path_factory.mktemp("deployments")
    (directory / "31337.json").write_text(json.dumps(suite.deployment.registry()))
    return directory


def pytest_configure(config):
    config.addinivalue_line("markers", "reverts_on_purpose: the test makes a transaction of the backend revert")


@pytest.fixture(autouse=True)
def no_transaction_reverted(request, tmp_path):
    """After each test, once its apps have stopped: no transaction of the backend's keys reverted (outbound_txs of
    every SQLite database the test kept in its tmp_path), unless the test is marked `reverts_on_purpose`. A reverted
    transaction burns the sponsor's gas and delays or fails what a member asked for."""
    yield
    reverted = [row for database in tmp_path.glob("*.db") for row in reverted_transactions(database)]
    if reverted and request.node.get_closest_marker("reverts_on_purpose") is None:
        pytest.fail(f"transactions of the backend reverted (purpose, hash, gas used, gas limit): {reverted}")


def reverted_transactions(database) -> list[tuple]:
    with closing(sqlite3.connect(database)) as db:
        try:
            return db.execute("SELECT purpose, tx_hash, gas_used, gas_limit FROM outbound_txs"
                              " WHERE status = 'reverted' ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # no such table: no app ever started on it
            return []


@pytest.fixture
def settings(tmp_path, registry_dir) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'kyoso.db'}",
        rpc_url=web3.provider.endpoint_uri,
        deployments_dir=registry_dir,
        chain_id=31337,
        relayer_private_key=ANVIL_DEV_KEY_1,
        public_base_url="http://testserver",
    )


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings), base_url=API_BASE) as test_client:
        yield test_client


class Api:
    """A member's view of the API: signs up, logs in with the password chosen, then calls with its token. The
    address stays unconfirmed unless `verified` (the operator vouches for it, as `kyoso accounts verify` does): the
    roles that issue or spend need it."""

    counter = 0

    def __init__(self, client: TestClient, email: str | None = None, password: str = "correct horse battery",
                 verified: bool = False):
        Api.counter += 1
        self.client = client
        self.email = email or f"member{Api.counter}-{time.time_ns()}@example.jp"
        self.password = password
        response = client.post("/auth/signup", json={"email": self.email, "password": password})
        assert response.status_code == 202, response.text
        response = client.post("/auth/login", json={"email": self.email, "password": password})
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        if verified:
            self.verify()

    def verify(self) -> "Api":
        with self.client.app.state.session_factory() as session:
            accounts_service.mark_verified(session=session, email=self.email)
        return self

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def delete(self, path: str, **kw):
        return self.client.delete(path, headers=self.headers, **kw)

    def me(self) -> dict:
        return self.get("/me").json()


def iso(dt: datetime) -> str:
    return dt.isoformat()


def event_body(**overrides) -> dict:
    now = datetime.now(timezone.utc)
    body = {
        "title_ja": "金沢百万石まつり ボランティア", "title_en": "Hyakumangoku Festival volunteers",
        "description_ja": "会場の清掃と案内", "description_en": "Cleaning and guiding at the venue",
        "category": "volunteering", "venue": "金沢駅 鼓門", "starts_at": iso(now - timedelta(hours=1)),
        "ends_at": iso(now + timedelta(hours=5)), "claim_start": iso(now - timedelta(hours=1)),
        "claim_end": iso(now + timedelta(days=1)), "capacity": 0, "points": 10,
    }
    body.update(overrides)
    return body


def steward_of(client: TestClient) -> Api:
    """A steward of the community served by `client`: a member the operator made one (backend/admin.py does the
    same on a deployment's database)."""
    if getattr(client, "kyoso_steward", None) is None:
        steward = Api(client, verified=True)
        with client.app.state.session_factory() as session:
            accounts_service.set_steward(session=session, email=steward.email, steward=True)
        client.kyoso_steward = steward
    return client.kyoso_steward


def sponsor_of(client: TestClient, email: str = "dx@city.kanazawa.example") -> Api:
    """One of the sponsor's accounts: a member with a confirmed address whom the operator made one (`kyoso sponsor
    set` does the same on a deployment's database)."""
    sponsor = Api(client, email=email, verified=True)
    with client.app.state.session_factory() as session:
        accounts_service.set_sponsor(session=session, email=email, sponsor=True)
    return sponsor


def approve(client: TestClient, organization_id: int) -> dict:
    """A steward approves the organization: from then on the relayer registers it on chain."""
    response = steward_of(client).post(f"/organizations/{organization_id}/approve")
    assert response.status_code == 200, response.text
    return response.json()


def approved_organization(client: TestClient, organizer: Api, name_en: str = "Kanazawa City",
                          name_ja: str = "金沢市") -> dict:
    """An organization of `organizer` (whose address is confirmed first: founding one needs it), approved."""
    organizer.verify()
    org = organizer.post("/organizations", {"name_ja": name_ja, "name_en": name_en}).json()
    return approve(client, org["id"])


def event_on_chain(client: TestClient, organizer: Api, organization_id: int, **event_overrides) -> dict:
    """A new event of the organization, once it is created on chain."""
    event = organizer.post(f"/organizations/{organization_id}/events", event_body(**event_overrides)).json()
    return wait_for(lambda: (e := client.get(f"/events/{event['id']}").json())["token_id"] and e,
                    what="event created on chain")


def organizer_with_event(client: TestClient, **event_overrides) -> tuple[Api, dict, dict]:
    """An organizer, its organization (approved by a steward, registered on chain) and an event (created on chain)."""
    organizer = Api(client)
    org = approved_organization(client, organizer)
    return organizer, org, event_on_chain(client, organizer, org["id"], **event_overrides)


def codes(organizer: Api, event_id: int, count: int) -> list[str]:
    response = organizer.post(f"/events/{event_id}/codes", {"count": count})
    assert response.status_code == 201, response.text
    urls = response.json()["claim_urls"]
    assert all("#c=" in url for url in urls)  # the secret rides in the fragment, which browsers never send
    return [url.split("#c=", 1)[1] for url in urls]


def wait_confirmed(member: Api, claim_id: int, timeout: float = 30.0) -> dict:
    return wait_for(lambda: (c := member.get(f"/claims/{claim_id}").json())["status"] == "confirmed" and c,
                    timeout=timeout, what=f"claim {claim_id} confirmed")


def members_with_badge(client: TestClient, organizer: Api, event: dict, count: int) -> list[Api]:
    """`count` new members who claimed the event's badge with printed codes, once their claims are confirmed."""
    members = [Api(client) for _ in range(count)]
    for member, secret in zip(members, codes(organizer, event["id"], count)):
        wait_confirmed(member, member.post(f"/events/{event['id']}/claims",
                                           {"method": "code", "secret": secret}).json()["id"])
    return members
