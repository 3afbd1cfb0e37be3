"""The relayer on a chain that mines a block every second and charges a base fee, as a public network does (not
Anvil's automine with free gas): organization keys start empty and are topped up by the relayer."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.platform.config import ANVIL_DEV_KEY_1, Settings
from backend.app import create_app
from backend.platform.models import OutboundTx
from scripts.suite import deploy_registry
from tests.backend.conftest import API_BASE, Api, codes, organizer_with_event, wait_for
from tools.devstack.processes import Anvil

RELAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ATTENDEES = 30


@pytest.fixture(scope="module")
def interval_chain(project_root):
    # Anvil's default base fee (1 gwei): gas costs ETH here
    chain = Anvil(project_root, "--block-time", "1", "--chain-id", "31337")
    yield chain.url, chain.w3
    chain.stop()


def test_relayer_batches_and_confirms_with_one_second_blocks(interval_chain, tmp_path):
    url, w3 = interval_chain
    registry = deploy_registry(w3, RELAYER)
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / "31337.json").write_text(json.dumps(registry))
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'k.db'}", rpc_url=url,
                        deployments_dir=tmp_path / "deployments", chain_id=31337,
                        relayer_private_key=ANVIL_DEV_KEY_1, public_base_url="http://testserver")
    with TestClient(create_app(settings), base_url=API_BASE) as client:
        organizer, org, event = organizer_with_event(client)
        secrets = codes(organizer, event["id"], ATTENDEES)
        with ThreadPoolExecutor(8) as pool:
            attendees = list(pool.map(lambda _: Api(client), range(ATTENDEES)))
            responses = list(pool.map(
                lambda p: p[0].post(f"/events/{event['id']}/claims", {"method": "code", "secret": p[1]}),
                zip(attendees, secrets)))
        assert [r.status_code for r in responses] == [202] * ATTENDEES
        wait_for(lambda: all(a.get(f"/claims/{r.json()['id']}").json()["status"] == "confirmed"
                             for a, r in zip(attendees, responses)), timeout=90, interval=1, what="all confirmed")
        with client.app.state.session_factory() as session:
            nonces = session.scalars(select(OutboundTx.nonce).where(OutboundTx.sender == org["issuer_address"])
                                     .order_by(OutboundTx.nonce)).all()
            txs = session.scalars(select(OutboundTx)).all()
        badges = client.app.state.services.contracts.badges
        addresses = [a.me()["wallet_address"] for a in attendees]
        assert badges.functions.balanceOfBatch(addresses, [event["token_id"]] * ATTENDEES).call() == [1] * ATTENDEES

        # Proposing is gasless for a custodial member even where gas costs ETH: the relayer funds the member's key
        # with the cost of `propose`, and the member's own key sends it.
        proposer = attendees[0]
        assert w3.eth.get_balance(addresses[0]) == 0
        proposal = proposer.post("/proposals", {"kind": "text", "title_ja": "近江町市場で朝市ワークショップ",
                                                "title_en": "A morning-market workshop at Omicho Market"})
        assert proposal.status_code == 202, proposal.text
        onchain = wait_for(lambda: (p := client.get(f"/proposals/{proposal.json()['id']}").json())["state"]
                           == "pending" and p, timeout=60, what="proposal on chain")
        governor = client.app.state.services.contracts.governor
        assert governor.functions.proposalProposer(int(onchain["proposal_id"])).call() == addresses[0]

        def settled_propose():  # the indexer may see the proposal a tick before the relayer settles its transaction
            with client.app.state.session_factory() as session:
                tx = session.scalars(select(OutboundTx).where(OutboundTx.purpose == "propose")).one()
                return tx if tx.status.value != "broadcast" else None

        propose = wait_for(settled_propose, timeout=30, what="propose transaction settled")
        with client.app.state.session_factory() as session:
            member_fundings = session.scalars(select(OutboundTx).where(OutboundTx.purpose == "fund_member")).all()
        assert len(member_fundings) == 1 and propose.sender == addresses[0] and propose.status.value == "mined"
        funded = w3.eth.get_transaction(member_fundings[0].tx_hash)["value"]
        assert 0 < funded <= propose.gas_limit * 2 * w3.eth.get_block(propose.block_number)["baseFeePerGas"] * 2
        assert w3.eth.get_balance(addresses[0]) < funded  # it paid for its own transaction with what it was given
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))  # contiguous
    assert len(nonces) < ATTENDEES  # one create_event plus a few batches, far fewer than one per claim
    fundings = [t for t in txs if t.purpose == "fund"]
    assert fundings and all(t.status.value == "mined" for t in fundings)
