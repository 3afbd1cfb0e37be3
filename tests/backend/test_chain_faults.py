"""What the chain node does to the relayer, and how the relayer recovers: a transaction stuck in the pool is replaced
with higher fees, one the node dropped is sent again, a nonce used from outside is recovered, and a node that stalls
for 30 s during a burst: the API keeps answering, and everything completes when the node is back."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime, timedelta, timezone
from concurrent.futures import ThreadPoolExecutor

import pytest
from brownie import web3
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.platform.config import ANVIL_DEV_KEY_1, Settings
from backend.platform.keys import SealedKey
from backend.app import create_app
from backend.claims.models import Claim
from backend.organizations.models import Organization
from backend.platform.models import OutboundTx, TxStatus
from backend.relayer import timing
from scripts.suite import deploy_registry
from tests.backend.conftest import API_BASE, Api, codes, organizer_with_event, wait_confirmed, wait_for
from tools.devstack.processes import Anvil

RELAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STALL_S = 30


def rpc(method: str, params: list | None = None):
    response = web3.provider.make_request(method, params or [])
    assert "error" not in response, response
    return response["result"]


@pytest.fixture
def pause_mining():
    """Call it, and transactions wait in the pool until the test mines (as on a congested network)."""
    yield lambda: rpc("evm_setAutomine", [False])
    rpc("evm_setAutomine", [True])
    rpc("evm_mine")


def issue_tx(client: TestClient, event_id: int, statuses=(TxStatus.broadcast,)) -> OutboundTx | None:
    with client.app.state.session_factory() as session:
        return session.scalar(select(OutboundTx).where(OutboundTx.purpose == "issue", OutboundTx.subject_id == event_id,
                                                       OutboundTx.status.in_(statuses)))


def pending_hashes() -> set[str]:
    content = rpc("txpool_content")
    return {tx["hash"].lower() for by_sender in content["pending"].values() for tx in by_sender.values()}


def claim_one(client: TestClient, organizer: Api, event: dict) -> tuple[Api, dict]:
    (secret,) = codes(organizer, event["id"], 1)
    member = Api(client)
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})
    assert claim.status_code == 202, claim.text
    return member, claim.json()


def test_a_stuck_transaction_is_replaced_with_higher_fees(client, suite, monkeypatch, pause_mining):
    organizer, org, event = organizer_with_event(client)
    rpc("anvil_setBalance", [org["issuer_address"], hex(10**18)])  # higher fees cost ETH, even on a free chain
    pause_mining()
    monkeypatch.setattr(timing, "REPLACE_AFTER_S", 3.0)
    member, claim = claim_one(client, organizer, event)
    stuck = wait_for(lambda: issue_tx(client, event["id"]), what="issue broadcast")
    original = web3.eth.get_transaction(stuck.tx_hash)
    bumped = wait_for(lambda: (t := issue_tx(client, event["id"])) and t.replaced_hashes and t, timeout=30,
                      what="fee bump")
    assert bumped.replaced_hashes == [stuck.tx_hash] and bumped.nonce == stuck.nonce
    replacement = web3.eth.get_transaction(bumped.tx_hash)
    assert replacement["maxFeePerGas"] > original["maxFeePerGas"]
    assert replacement["maxPriorityFeePerGas"] > original["maxPriorityFeePerGas"]
    assert bumped.tx_hash.lower() in pending_hashes() and stuck.tx_hash.lower() not in pending_hashes()
    rpc("evm_mine")
    confirmed = wait_confirmed(member, claim["id"])
    assert confirmed["tx_hash"] == bumped.tx_hash  # the replacement is what was mined
    assert suite.badges.balanceOf(member.me()["wallet_address"], event["token_id"]) == 1


def test_a_transaction_the_node_dropped_is_sent_again(client, suite, monkeypatch, pause_mining):
    organizer, _org, event = organizer_with_event(client)
    pause_mining()
    monkeypatch.setattr(timing, "REBROADCAST_AFTER_S", 1.0)
    member, claim = claim_one(client, organizer, event)
    sent = wait_for(lambda: issue_tx(client, event["id"]), what="issue broadcast")
    assert sent.tx_hash.lower() in pending_hashes()
    rpc("anvil_dropTransaction", [sent.tx_hash])
    assert sent.tx_hash.lower() not in pending_hashes()
    wait_for(lambda: sent.tx_hash.lower() in pending_hashes(), timeout=30, what="the dropped transaction sent again")
    rpc("evm_mine")
    confirmed = wait_confirmed(member, claim["id"])
    assert confirmed["tx_hash"] == sent.tx_hash  # the same signed bytes: nothing new was signed
    assert issue_tx(client, event["id"], statuses=tuple(TxStatus)).broadcasts >= 2
    assert suite.badges.balanceOf(member.me()["wallet_address"], event["token_id"]) == 1


def test_the_relayer_recovers_when_its_nonce_was_used_from_outside(client, suite, monkeypatch, pause_mining):
    """The organization's key sends a transaction the relayer knows nothing of, with the nonce of the relayer's own
    pending transaction (an operator using the key by hand, or a second backend misconfigured with the same key)."""
    organizer, org, event = organizer_with_event(client)
    pause_mining()
    monkeypatch.setattr(timing, "REBROADCAST_AFTER_S", 1.0)
    member, claim = claim_one(client, organizer, event)
    ours = wait_for(lambda: issue_tx(client, event["id"]), what="issue broadcast")
    rpc("anvil_dropTransaction", [ours.tx_hash])
    with client.app.state.session_factory() as session:
        row = session.get(Organization, org["id"])
        key = client.app.state.vault.open(SealedKey(row.issuer_address, row.issuer_key))
    outside = key.sign_transaction({"chainId": 31337, "nonce": ours.nonce, "to": key.address, "value": 0,
                                    "gas": 21_000, "gasPrice": 0})
    web3.eth.send_raw_transaction(outside.raw_transaction)
    rpc("evm_mine")
    wait_for(lambda: issue_tx(client, event["id"], statuses=(TxStatus.superseded,)), timeout=30,
             what="the relayer noticed its nonce was used")
    wait_for(lambda: issue_tx(client, event["id"], statuses=(TxStatus.broadcast,)), timeout=30, what="re-issued")
    rpc("evm_mine")
    confirmed = wait_confirmed(member, claim["id"])
    reissued = web3.eth.get_transaction(confirmed["tx_hash"])
    assert reissued["nonce"] == ours.nonce + 1 and reissued["from"] == org["issuer_address"]
    assert suite.badges.balanceOf(member.me()["wallet_address"], event["token_id"]) == 1


def test_a_claim_accepted_at_the_last_second_is_issued_after_the_window(client, suite, pause_mining):
    """The attendee was told "accepted" a moment before the claim window closed; the block that issues the badge
    comes after it (a busy network): the badge must still arrive."""
    now = datetime.now(timezone.utc)
    organizer, _org, event = organizer_with_event(client, claim_end=(now + timedelta(seconds=4)).isoformat())
    pause_mining()
    member, claim = claim_one(client, organizer, event)
    wait_for(lambda: issue_tx(client, event["id"]), what="issue broadcast")
    time.sleep(max(0.0, (now + timedelta(seconds=5) - datetime.now(timezone.utc)).total_seconds()))
    rpc("evm_mine")
    assert web3.eth.get_block("latest")["timestamp"] > (now + timedelta(seconds=4)).timestamp()
    wait_confirmed(member, claim["id"])
    assert suite.badges.balanceOf(member.me()["wallet_address"], event["token_id"]) == 1


def test_a_chain_node_stalled_for_30_s_during_a_burst(project_root, tmp_path):
    """The node stops answering (SIGSTOP) in the middle of a burst: claims are still accepted and queued, status and
    pages still answer (health says 503, never 500), and once the node is back every claim is confirmed once."""
    node = Anvil(project_root, "--chain-id", "31337")
    try:
        registry = deploy_registry(node.w3, RELAYER)
        (tmp_path / "deployments").mkdir()
        (tmp_path / "deployments" / "31337.json").write_text(json.dumps(registry))
        settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'k.db'}", rpc_url=node.url,
                            deployments_dir=tmp_path / "deployments", chain_id=31337, rpc_timeout_s=2.0,
                            relayer_private_key=ANVIL_DEV_KEY_1, public_base_url="http://testserver")
        with TestClient(create_app(settings), base_url=API_BASE) as client:
            organizer, _org, event = organizer_with_event(client)
            attendees = 30
            secrets = codes(organizer, event["id"], attendees)
            with ThreadPoolExecutor(8) as pool:
                members = list(pool.map(lambda _: Api(client), range(attendees)))

            def claim(pair):
                return pair[0].post(f"/events/{event['id']}/claims", {"method": "code", "secret": pair[1]})

            before = [claim(p) for p in zip(members[:10], secrets[:10])]
            node.proc.send_signal(signal.SIGSTOP)
            stalled_at = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                during = list(pool.map(claim, zip(members[10:], secrets[10:])))
            assert [r.status_code for r in before + during] == [202] * attendees
            claim_ids = [r.json()["id"] for r in before + during]
            health = client.get("/health")
            assert health.status_code == 503 and any("chain node unreachable" in p for p in health.json()["problems"])
            assert client.get("/events").status_code == 200
            needs_chain = members[0].get("/governance")  # reads settings from the contracts
            assert needs_chain.status_code == 503 and needs_chain.json()["error"] == "chain_unavailable"
            assert needs_chain.headers["Retry-After"] == "10"
            assert members[-1].get(f"/claims/{claim_ids[-1]}").json()["status"] == "accepted"  # queued, not lost
            time.sleep(max(0.0, STALL_S - (time.monotonic() - stalled_at)))
            node.proc.send_signal(signal.SIGCONT)
            for member, claim_id in zip(members, claim_ids):
                wait_confirmed(member, claim_id, timeout=90)
            badges = client.app.state.services.contracts.badges
            addresses = [m.me()["wallet_address"] for m in members]
            assert badges.functions.balanceOfBatch(addresses, [event["token_id"]] * attendees).call() == [1] * attendees
            with client.app.state.session_factory() as session:
                assert len(session.scalars(select(Claim)).all()) == attendees
            # health is `ok` again once the indexer has caught up with the blocks mined after the stall
            wait_for(lambda: client.get("/health").status_code == 200, timeout=30, what="health ok again")
    finally:
        node.stop()
