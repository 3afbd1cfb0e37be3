"""Reorgs while claims and votes flow (issue #19), on the chain as `make run` lays it out: Anvil making a block every
2 s whatever the backend does (tools/run_stack.py), the relayer and the indexer in the app's process.

Anvil's `anvil_reorg` replaces the newest blocks with empty ones at depths 1 and 3, right after the relayer
settled claims and votes in them (the API said `confirmed`) and the indexer applied their logs: the transactions in
them are gone from the chain. Afterwards every badge, point and vote on chain is exactly once in the API's views, no
claim is lost or issued twice, and the tallies the API shows are the governor's `proposalVotes`. A member's move to
an own wallet taken out by a reorg is made again, and the custodial key lives until the move is final.

At depth 12, Anvil's reorg gives every replacement block the timestamp of the block it forks from, so the chain's
clock goes back 24 s and the proposal, opened in those seconds, is pending again: the votes the relayer sends again
(the same bytes) revert, and wait in the queue until voting opens again instead of failing."""

from __future__ import annotations

import logging
import time

import pytest
from brownie import accounts, web3
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.accounts.models import CustodialKey
from backend.app import create_app
from backend.claims.models import Claim, ClaimStatus
from backend.governance.models import RelayStatus, Vote
from backend.platform.config import ANVIL_DEV_KEY_1, Settings
from backend.platform.models import IndexerCursor, OutboundTx, TxStatus
from scripts.kyoso_suite import GovernanceSettings, deploy_suite
from tests.backend.conftest import (
    API_BASE,
    RELAYER_ADDRESS,
    Api,
    codes,
    organizer_with_event,
    reverted_transactions,
    wait_for,
)
from tests.backend.test_wallet_export import key_of, siwe_proof
from tools.run_stack import BLOCK_TIME_S

FOR, AGAINST = 1, 0
BEFORE, DURING = 6, 6  # members with points before the proposal; members who claim while the reorg happens


@pytest.fixture(scope="module")
def suite():
    # voting opens 30 s after a proposal, on 2 s blocks, without moving the clock by hand: longer than the deepest
    # reorg here (12 blocks), as a real voting delay (hours) is, so a reorg never takes a proposal and its votes out
    # together (the votes, sent again before the proposal is open again, would revert)
    return deploy_suite(accounts[0], RELAYER_ADDRESS, GovernanceSettings(
        voting_delay_s=30, voting_period_s=3_600, proposal_threshold=10, quorum_percent=10, timelock_delay_s=3_600))


@pytest.fixture(scope="module", autouse=True)
def blocks_every_two_seconds(suite):
    """`make run`'s chain after its deploy: a block every BLOCK_TIME_S, transactions or not."""
    web3.provider.make_request("evm_setIntervalMining", [BLOCK_TIME_S])
    yield
    web3.provider.make_request("evm_setAutomine", [True])
    # Anvil's reorg stamps its new blocks with the fork block's time: the chain's clock is put back on the wall
    # clock, which later modules' claim windows are set by
    now = max(int(time.time()), web3.eth.get_block("latest")["timestamp"] + 1)
    web3.provider.make_request("evm_setNextBlockTimestamp", [now])
    web3.provider.make_request("evm_mine", [])


def mined_since(client, block: int) -> list[OutboundTx]:
    with client.app.state.session_factory() as session:
        return session.scalars(select(OutboundTx).where(OutboundTx.status == TxStatus.mined,
                                                        OutboundTx.block_number > block)).all()


def settled_and_indexed(client, block: int) -> int | None:
    """`block` when a transaction of the backend was settled in it and the indexer has applied it."""
    with client.app.state.session_factory() as session:
        settled = session.scalar(select(OutboundTx.id).where(OutboundTx.status == TxStatus.mined,
                                                             OutboundTx.block_number == block).limit(1))
        cursor = session.get(IndexerCursor, "contracts")
    return block if settled is not None and cursor is not None and cursor.next_block > block else None


def count(client, query) -> int:
    with client.app.state.session_factory() as session:
        return session.scalar(query)


def gone(tx_hash: str) -> bool:
    return web3.provider.make_request("eth_getTransactionReceipt", [tx_hash]).get("result") is None


def claim(event: dict, member: Api, secret: str) -> int:
    answer = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


@pytest.fixture(scope="module")
def client(suite, registry_dir, tmp_path_factory):
    """One app (and database) for the module, so that the voting delay is waited for once (`ballot`). Its reverted
    transactions are checked at its end: only the votes sent again at depth 12 into a proposal pending again."""
    database = tmp_path_factory.mktemp("reorgs") / "kyoso.db"
    settings = Settings(environment="test", database_url=f"sqlite:///{database}",
                        rpc_url=web3.provider.endpoint_uri, deployments_dir=registry_dir, chain_id=31337,
                        relayer_private_key=ANVIL_DEV_KEY_1, public_base_url="http://testserver")
    with TestClient(create_app(settings), base_url=API_BASE) as test_client:
        yield test_client
    reverted = reverted_transactions(database)
    assert {purpose for purpose, *_ in reverted} <= {"vote"}, reverted


@pytest.fixture(scope="module")
def ballot(client, suite):
    """One proposal for the three depths, and BEFORE members with points for each depth, who vote in its test: the
    voting delay (30 s of 2 s blocks) is waited for once."""
    organizer, _org, event = organizer_with_event(client)
    groups = [[Api(client) for _ in range(BEFORE)] for _ in DEPTHS]
    voters = sum(groups, [])
    claims = [claim(event, m, s) for m, s in zip(voters, codes(organizer, event["id"], len(voters)))]
    for member, claim_id in zip(voters, claims):
        wait_for(lambda m=member, c=claim_id: m.get(f"/claims/{c}").json()["status"] == "confirmed", timeout=60,
                 what="a voter's points")
    proposal = groups[0][0].post("/proposals", {"kind": "text", "title_ja": "金沢駅に市民の展示スペースを",
                                                "title_en": "A residents' exhibition space at Kanazawa Station"})
    assert proposal.status_code == 202, proposal.text
    path = f"/proposals/{proposal.json()['id']}"
    wait_for(lambda: client.get(path).json()["state"] == "active", timeout=90, what="voting open")
    return organizer, event, dict(zip(DEPTHS, groups)), proposal.json()


# Depth 12 first: right after voting opened, so the reorg's older clock makes the proposal pending again
DEPTHS = (12, 3, 1)


@pytest.mark.parametrize("depth", [pytest.param(12, marks=pytest.mark.reverts_on_purpose), 3, 1])
def test_a_reorg_takes_nothing_lost_and_nothing_twice(client, suite, ballot, depth, caplog):
    caplog.set_level(logging.WARNING)
    organizer, event, groups, proposal = ballot
    voters, path, pid = groups[depth], f"/proposals/{proposal['id']}", int(proposal["proposal_id"])
    against, for_, abstain = (int(v) for v in suite.governor.proposalVotes(pid))

    # claims and votes in flight; the reorg comes right after the relayer settled some of them in the newest block
    # and the indexer applied it
    late = [Api(client) for _ in range(DURING)]
    claims = [(m, claim(event, m, s)) for m, s in zip(late, codes(organizer, event["id"], DURING))]
    for voter, support in zip(voters, (FOR, FOR, AGAINST, FOR, AGAINST, FOR)):
        assert voter.post(f"{path}/votes", {"support": support}).status_code == 202
    against, for_ = against + 20, for_ + 40
    orphaned: dict[str, str] = {}
    for _attempt in range(3):  # a block mined between the look and the reorg moves the target out of its reach
        target = wait_for(lambda: settled_and_indexed(client, web3.eth.block_number), timeout=60, interval=0.05,
                          what="a settlement in the newest block, indexed")
        candidates = {t.tx_hash: t.purpose for t in mined_since(client, target - depth)}
        assert web3.provider.make_request("anvil_reorg", [depth, []]).get("error") is None
        orphaned.update({h: p for h, p in candidates.items() if gone(h)})
        if orphaned:
            break
        extra = Api(client)  # one more claim in flight for the next attempt
        late.append(extra)
        claims.append((extra, claim(event, extra, codes(organizer, event["id"], 1)[0])))
    assert orphaned, "the reorg took no settled transaction out"

    members = voters + late
    addresses = [m.me()["wallet_address"] for m in members]
    # the chain first: what the reorg took out is sent again (the same nonce and bytes), and mined once
    wait_for(lambda: list(suite.badges.balanceOfBatch(addresses, [event["token_id"]] * len(members)))
             == [1] * len(members), timeout=120, what="every badge on chain again")
    wait_for(lambda: [int(v) for v in suite.governor.proposalVotes(pid)] == [against, for_, abstain], timeout=120,
             what="every vote on chain again")
    assert all(suite.governor.hasVoted(pid, a) for a in addresses[:BEFORE])
    assert [suite.points.balanceOf(a) for a in addresses] == [10] * len(members)  # never issued twice
    for member, claim_id in claims:
        wait_for(lambda m=member, c=claim_id: m.get(f"/claims/{c}").json()["status"] == "confirmed", timeout=60,
                 what=f"claim {claim_id} confirmed again")
    votes = select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal["id"],
                                                         Vote.voter.in_(addresses[:BEFORE]))
    wait_for(lambda: count(client, votes.where(Vote.status == RelayStatus.confirmed)) == len(voters), timeout=60,
             what="every vote confirmed again")

    # the API's views: what the chain says, once
    wait_for(lambda: client.get(path).json()["votes"] == {"for": for_, "against": against, "abstain": abstain},
             timeout=60, what="the tallies of the new branch")
    wait_for(lambda: all(len(m.get("/me/wallet").json()["badges"]) == 1 for m in members), timeout=60,
             what="every badge indexed once")
    assert [m.get("/me/wallet").json()["points"] for m in members] == [10] * len(members)
    with client.app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Claim).where(
            Claim.recipient.in_(addresses), Claim.event_id == event["id"],
            Claim.status == ClaimStatus.confirmed)) == len(members)
        assert session.scalar(votes) == len(voters)
    assert "left the chain" in caplog.text  # the relayer took its settlements back
    assert "reorg: the blocks after" in caplog.text  # and the indexer what it derived


def test_a_move_to_an_own_wallet_taken_out_by_a_reorg_comes_back_and_the_key_lives_until_it_is_final(client, suite,
                                                                                                       caplog):
    caplog.set_level(logging.WARNING)
    organizer, _org, event = organizer_with_event(client)
    member = Api(client)
    custodial = member.me()["wallet_address"]
    (secret,) = codes(organizer, event["id"], 1)
    wait_for(lambda c=claim(event, member, secret): member.get(f"/claims/{c}").json()["status"] == "confirmed",
             timeout=60, what="the member's badge")
    own = Account.create()
    answer = member.post("/me/wallet/export", {"password": member.password, **siwe_proof(client, own)})
    assert answer.status_code == 202, answer.text
    wait_for(lambda: member.get("/me/wallet/export").json()["status"] == "done", timeout=60, what="moved")
    with client.app.state.session_factory() as session:
        move = session.scalars(select(OutboundTx).where(OutboundTx.purpose == "migrate")
                               .order_by(OutboundTx.id.desc()).limit(1)).one()
    wait_for(lambda: settled_and_indexed(client, move.block_number), timeout=60, what="the move indexed")

    assert web3.provider.make_request("anvil_reorg", [web3.eth.block_number - move.block_number + 1, []]).get(
        "error") is None
    assert gone(move.tx_hash)
    # sent again (the member's signature makes the same migration), and mined once more
    wait_for(lambda: suite.badges.balanceOf(own.address, event["token_id"]) == 1, timeout=120,
             what="the badge at the own wallet again")
    assert suite.badges.balanceOf(custodial, event["token_id"]) == 0 and suite.points.balanceOf(own.address) == 10
    wait_for(lambda: member.get("/me/wallet/export").json()["status"] == "done", timeout=60, what="moved again")
    assert member.me()["wallet_address"] == own.address
    assert "(migrate) left the chain" in caplog.text
    with client.app.state.session_factory() as session:  # until the move is final, a reorg could undo it again
        assert session.get(CustodialKey, member.me()["id"]) is not None
    web3.provider.make_request("anvil_mine", [70, 0])  # Anvil finalizes a block once 64 more are on top of it
    wait_for(lambda: key_of(client, member.me()["id"]) is None, timeout=30, what="the key destroyed once final")
