"""RPC providers as they are (issue #19): the backend's primary provider is dead, the other one sits behind a real
fault-injecting proxy process (tools/devstack/rpc_proxy.py) that answers 429 with Retry-After, 500, times out, drops
connections after the node got the request, and refuses wide eth_getLogs ranges and large answers. A burst of claims
still ends with every claim confirmed once, and /api/health named each fault while it happened.

`make bench-faults` runs it with more claims (KYOSO_RPC_FAULT_CLAIMS, 1,000 there)."""

from __future__ import annotations

import os
import sys
import time
from itertools import islice

import httpx
import pytest
from brownie import web3
from fastapi.testclient import TestClient

from tests.backend.conftest import Api, codes, organizer_with_event, sponsor_of, wait_for
from tools.devstack.processes import Captured, free_port

CLAIMS = int(os.environ.get("KYOSO_RPC_FAULT_CLAIMS", "60"))
DEAD_SECRET = "deadprovider-apikey-0123456789"
FAULT_ERRORS = {"429": "HTTP 429", "500": "HTTP 500", "timeout": "ReadTimeout", "drop": "ConnectionError"}
FAULTS = (("429", 2), ("500", 3), ("timeout", 1), ("drop", 2))  # each fault, and how many requests meet it


@pytest.fixture(scope="module")
def proxy(project_root):
    port = free_port()
    process = Captured([sys.executable, "-m", "tools.devstack.rpc_proxy", "--port", str(port), "--upstream",
                        web3.provider.endpoint_uri], project_root, {})
    try:
        process.wait_for_output("rpc proxy on", 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()


@pytest.fixture
def settings(settings, proxy):
    dead = f"http://127.0.0.1:{free_port()}/v2/{DEAD_SECRET}"  # nothing listens there
    # From the app's start: the indexer catches up from the deployment block through ranges of at most 10 blocks and
    # answers of at most 5 logs (providers allow a few thousand blocks and 10,000 results; scaled down to what this
    # test's chain holds)
    inject(proxy, getlogs_max_blocks=10, getlogs_max_results=5, delay_s=2.0)
    return settings.model_copy(update={"rpc_url": dead, "rpc_fallback_urls": proxy, "rpc_timeout_s": 1.0})


def attendees(client, count: int, per_address: int = 500) -> list[Api]:
    """`count` members signed up from several addresses, as at a venue (its Wi-Fi, carriers' addresses): sign-ups
    are limited to 1,000 an hour per address (backend/platform/rate_limits.py), which `make bench-faults`' 1,000
    claims would otherwise meet. The other clients share the app the fixture started (no second lifespan)."""
    clients = [client] + [TestClient(client.app, base_url=str(client.base_url), client=(f"198.51.100.{i}", 50000))
                          for i in range(1, (count - 1) // per_address + 1)]
    return [Api(clients[i // per_address]) for i in range(count)]


def inject(proxy: str, **settings) -> None:
    httpx.post(f"{proxy}/_faults", json=settings).raise_for_status()


def provider_errors(client) -> set[str]:
    health = client.get("/health").json()
    return {f"{p['provider']}: {p['last_error']}" for p in health["rpc_providers"] if p["last_error"]} | {
        f"{p['provider']} {p['state']}" for p in health["rpc_providers"]}


def test_a_burst_survives_a_dead_provider_and_a_faulty_one(client, proxy, suite):
    organizer, org, event = organizer_with_event(client)
    # the sponsor budgets the festival (a new organization's default budget covers a few hundred claims)
    answer = client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": 10**10},
                        headers=sponsor_of(client).headers)
    assert answer.status_code == 200, answer.text
    members = attendees(client, CLAIMS)
    secrets = codes(organizer, event["id"], CLAIMS)
    # a festival batch puts hundreds of logs in one block: a provider's real limit (10,000) is far above that
    inject(proxy, getlogs_max_results=10_000)

    # Each fault in turn while claims come in and go out: a share of the claims right after it is set, then health
    # is watched until it names the fault (health's own calls to the node meet the faults too).
    seen: set[str] = set()
    pending = iter(zip(members, secrets))
    share = CLAIMS // (len(FAULTS) + 1)
    claims = []

    def claim(count: int) -> None:
        for member, secret in islice(pending, count):
            answer = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})
            assert answer.status_code == 202, answer.text  # accepting never needs the node
            claims.append((member, answer.json()["id"]))

    for fault, count in FAULTS:
        inject(proxy, fault=fault, count=count)
        claim(share)
        deadline = time.monotonic() + 30
        while f"{proxy}: {FAULT_ERRORS[fault]}" not in seen:  # named on the faulty provider, not the dead one
            assert time.monotonic() < deadline, f"health never named {fault}: {seen}"
            seen.update(provider_errors(client))
            time.sleep(0.1)
    claim(CLAIMS)  # the rest
    for member, claim_id in claims:
        wait_for(lambda m=member, c=claim_id: m.get(f"/claims/{c}").json()["status"] == "confirmed",
                 timeout=120, what=f"claim {claim_id} confirmed")

    addresses = [m.me()["wallet_address"] for m in members]
    assert list(suite.badges.balanceOfBatch(addresses, [event["token_id"]] * CLAIMS)) == [1] * CLAIMS
    assert sum(suite.points.balanceOf(a) for a in addresses) == 10 * CLAIMS  # once each, never twice
    served = httpx.get(f"{proxy}/_faults").json()["served"]
    assert {"429", "500", "timeout", "drop", "getlogs_range", "getlogs_results"} <= set(served), served
    assert {f"{proxy}: {error}" for error in FAULT_ERRORS.values()} <= seen, seen  # health named each fault
    assert any("resting" in s for s in seen if s.startswith("http://127.0.0.1")), seen  # the dead one rested
    assert client.app.state.services.indexer.span < 2_000  # the refused ranges were shrunk
    # what the API shows (indexed through the refused ranges) is the chain's: one badge and 10 points each
    wait_for(lambda: all(len(m.get("/me/wallet").json()["badges"]) == 1 for m in members), timeout=60,
             what="every badge indexed")
    assert {m.get("/me/wallet").json()["points"] for m in members} == {10}
    assert DEAD_SECRET not in str(client.get("/health").json())
