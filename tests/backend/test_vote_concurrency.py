"""Votes under load and repetition: 50 members at once, one signed ballot sent 20 times, a front-run ballot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from brownie import accounts, web3
from sqlalchemy import select

from backend.platform.models import OutboundTx, TxStatus
from tests.backend.conftest import RELAYER_ADDRESS, Api, codes, wait_for
from tests.backend.governance_helpers import (  # noqa: F401 - chain_time_restored is an autouse fixture
    FOR,
    Community,
    OwnWalletMember,
    active_proposal,
    chain_time_restored,
    governance_suite,
)

MEMBERS = 60  # with 1,000-character reasons, more ballots than fit under one transaction's gas cap
REPEATS = 20


suite = governance_suite()


def wallet_member_and_active_proposal(client) -> tuple[Api, OwnWalletMember, dict, str]:
    """A proposer, an own-wallet member with points, and the proposer's proposal open for voting (with its path)."""
    community = Community(client)
    proposer = community.member_with_points()
    member = community.member_with_points(OwnWalletMember(client))
    proposal = active_proposal(client, proposer)
    return proposer, member, proposal, f"/proposals/{proposal['id']}"


def vote_cast_logs(suite, pid: int) -> list:
    event = web3.eth.contract(address=suite.governor.address, abi=suite.governor.abi).events.VoteCast()
    logs = event.get_logs(from_block=0)
    return [entry for entry in logs if entry["args"]["proposalId"] == pid]


def test_sixty_concurrent_votes_are_each_counted_once(client, suite):
    community = Community(client)
    secrets = codes(community.organizer, community.event["id"], MEMBERS)
    with ThreadPoolExecutor(max_workers=16) as pool:
        members = list(pool.map(lambda _: Api(client), range(MEMBERS)))
        claims = list(pool.map(lambda pair: pair[0].post(f"/events/{community.event['id']}/claims",
                                                         {"method": "code", "secret": pair[1]}),
                               zip(members, secrets)))
        assert [c.status_code for c in claims] == [202] * MEMBERS
        wait_for(lambda: all(m.get(f"/claims/{c.json()['id']}").json()["status"] == "confirmed"
                             for m, c in zip(members, claims)), timeout=120, interval=1.0, what="badges confirmed")
        proposal = active_proposal(client, members[0])
        # long reasons (1,000 characters, ~3 KB each): the relayer must split the batch by gas, not only by count
        reason = "ひがし茶屋街の清掃に賛成します。" * 62 + "以上"
        responses = list(pool.map(lambda m: m.post(f"/proposals/{proposal['id']}/votes",
                                                   {"support": FOR, "reason": reason}), members))
    assert [r.status_code for r in responses] == [202] * MEMBERS

    path = f"/proposals/{proposal['id']}"
    wait_for(lambda: client.get(path).json()["votes"]["for"] == 10 * MEMBERS, timeout=60, what="all votes counted")
    votes = client.get(f"{path}/votes").json()
    assert len(votes) == MEMBERS and all(v["status"] == "confirmed" for v in votes)
    pid = int(proposal["proposal_id"])
    logs = vote_cast_logs(suite, pid)
    assert len(logs) == MEMBERS and len({entry["args"]["voter"] for entry in logs}) == MEMBERS
    assert [int(v) for v in suite.governor.proposalVotes(pid)] == [0, 10 * MEMBERS, 0]

    def settled_relayer_txs() -> list | None:
        with client.app.state.session_factory() as session:
            txs = session.scalars(select(OutboundTx).where(OutboundTx.sender == RELAYER_ADDRESS)
                                  .order_by(OutboundTx.nonce)).all()
        return None if any(t.status in (TxStatus.signed, TxStatus.broadcast) for t in txs) else txs

    # the indexer can show the last batch's votes counted a tick before the relayer records that batch's receipt
    txs = wait_for(settled_relayer_txs, timeout=30, what="every relayer transaction settled")
    vote_txs = [t for t in txs if t.purpose == "vote"]
    assert 2 <= len(vote_txs) < MEMBERS  # batched, and split by gas
    assert all(t.status == TxStatus.mined for t in txs), [(t.nonce, t.purpose, t.status.value, t.last_error)
                                                          for t in txs]
    assert all(t.gas_used < 16_777_216 for t in vote_txs)
    nonces = [t.nonce for t in txs]
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))  # contiguous, none skipped
    assert web3.eth.get_transaction_count(RELAYER_ADDRESS) == nonces[-1] + 1


def test_one_signed_ballot_sent_twenty_times_is_one_vote(client, suite):
    proposer, member, proposal, path = wallet_member_and_active_proposal(client)
    ballot = {"support": FOR, "reason": "駅は誰もが通る場所だから",
              "signature": member.sign(member.get(f"{path}/ballot", params={"support": FOR,
                                                                            "reason": "駅は誰もが通る場所だから"}).json())}
    with ThreadPoolExecutor(max_workers=REPEATS) as pool:
        responses = list(pool.map(lambda _: member.post(f"{path}/votes", ballot), range(REPEATS)))
    assert [r.status_code for r in responses] == [202] * REPEATS
    assert len({r.json()["id"] for r in responses}) == 1
    wait_for(lambda: member.get(path).json()["my_vote"]["status"] == "confirmed", what="vote confirmed")
    again = member.post(f"{path}/votes", ballot)  # after it is on chain, still the same answer
    assert again.status_code == 202 and again.json()["id"] == responses[0].json()["id"]
    logs = vote_cast_logs(suite, int(proposal["proposal_id"]))
    assert [(e["args"]["voter"], e["args"]["reason"]) for e in logs] == [
        (member.me()["wallet_address"], "駅は誰もが通る場所だから")]


def test_a_ballot_front_run_on_chain_counts_as_success(client, suite):
    proposer, member, proposal, path = wallet_member_and_active_proposal(client)
    signature = member.sign(member.get(f"{path}/ballot", params={"support": FOR}).json())
    pid, voter = int(proposal["proposal_id"]), member.me()["wallet_address"]
    suite.governor.castVoteBySig(pid, FOR, voter, signature, {"from": accounts[5]})  # someone else relays it first

    response = member.post(f"{path}/votes", {"support": FOR, "signature": signature})
    assert response.status_code == 202, response.text
    wait_for(lambda: client.get(path).json()["votes"]["for"] == 10, what="the vote indexed")
    assert member.post(f"{path}/votes", {"support": FOR, "signature": signature}).status_code == 202
    assert member.get(path).json()["my_vote"]["status"] == "confirmed"
    assert len(vote_cast_logs(suite, pid)) == 1


def test_relayer_confirms_a_ballot_front_run_after_it_was_accepted(settings, suite):
    """The relayer is stopped while two ballots are accepted; someone relays one of them on chain first. When the
    relayer runs, its batch would revert: it confirms the front-run ballot and sends the other alone."""
    from eth_account import Account
    from fastapi.testclient import TestClient

    from backend.platform.config import ANVIL_DEV_KEY_1
    from backend.app import create_app
    from backend.relayer.service import Relayer
    from tests.backend.conftest import API_BASE

    with TestClient(create_app(settings), base_url=API_BASE) as client:
        proposer, member, proposal, path = wallet_member_and_active_proposal(client)
        client.app.state.services.relayer.stop()  # nothing is relayed until this test says so
        signature = member.sign(member.get(f"{path}/ballot", params={"support": FOR}).json())
        assert member.post(f"{path}/votes", {"support": FOR, "signature": signature}).status_code == 202
        assert proposer.post(f"{path}/votes", {"support": FOR}).status_code == 202
        pid, voter = int(proposal["proposal_id"]), member.me()["wallet_address"]
        suite.governor.castVoteBySig(pid, FOR, voter, signature, {"from": accounts[5]})

        state = client.app.state
        relayer = Relayer(state.session_factory, state.web3, state.services.contracts, state.vault,
                          Account.from_key(ANVIL_DEV_KEY_1), chain_id=31337)
        relayer.start()
        try:
            wait_for(lambda: all(v["status"] == "confirmed" for v in client.get(f"{path}/votes").json()),
                     what="both votes confirmed")
        finally:
            relayer.stop()
        logs = vote_cast_logs(suite, pid)
        assert sorted(e["args"]["voter"] for e in logs) == sorted([voter, proposer.me()["wallet_address"]])
        assert [int(v) for v in suite.governor.proposalVotes(pid)] == [0, 20, 0]


def test_wallet_signature_with_v_0_or_1_counts_and_a_malleable_one_is_refused(client, suite):
    from tools.devstack.eip712 import malleable

    proposer, member, proposal, path = wallet_member_and_active_proposal(client)
    signature = bytes.fromhex(member.sign(member.get(f"{path}/ballot", params={"support": FOR}).json())[2:])
    high_s = malleable(signature)
    refused = member.post(f"{path}/votes", {"support": FOR, "signature": "0x" + high_s.hex()})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_signature"
    v_0_or_1 = signature[:64] + bytes([signature[64] - 27])  # as some hardware wallets sign
    accepted = member.post(f"{path}/votes", {"support": FOR, "signature": "0x" + v_0_or_1.hex()})
    assert accepted.status_code == 202, accepted.text
    wait_for(lambda: member.get(path).json()["my_vote"]["status"] == "confirmed", what="vote confirmed")
    assert suite.governor.hasVoted(int(proposal["proposal_id"]), member.me()["wallet_address"])
