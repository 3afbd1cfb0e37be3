"""Nothing anyone sends on chain can stop the indexer (issue #17, "poison").

Strangers vote directly on the governor with reasons that are not UTF-8, carry NUL bytes or are 100 KB long (the
Governor counts a zero-weight vote, so no points are needed), and propose with such a description: the indexer still
reaches the head, the API shows every vote with its weight (the governor's `proposalVotes`), and health stays `ok`.
A log that cannot be applied at all (a bug injected into the indexer for one log) is skipped and named by health,
and the indexer goes on. On SQLite and on PostgreSQL (which refuses NUL in text).
"""

from __future__ import annotations

import itertools

import pytest
from brownie import accounts, web3
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.governance import record
from tests.backend.conftest import API_BASE, wait_for
from tests.backend.governance_helpers import (  # noqa: F401 - chain_time_restored is an autouse fixture
    FOR,
    Community,
    OwnWalletMember,
    active_proposal,
    chain_time_restored,
    governance_suite,
    wait_state,
)
from tools.devstack.postgres import PostgresServer, postgres_bin

suite = governance_suite()

INVALID_UTF8 = b"\xff\xfe\xc3(\x80 not text"
WITH_NUL = b"before\x00after"
HUGE = ("長" * 34_000).encode()  # ~100 KB of valid UTF-8


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine_kind(request):
    """The database engine of the module's tests; PostgreSQL's server is started once for them."""
    if request.param == "sqlite":
        yield None
        return
    if postgres_bin() is None:
        pytest.fail("PostgreSQL's binaries are missing: `make test` installs Debian's postgresql")
    server = PostgresServer()
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture
def client(settings, engine_kind, tmp_path):
    """The app on a new database of its own: each test's chain is reverted afterwards (chain_time_restored)."""
    url = (f"sqlite:///{tmp_path / 'kyoso.db'}" if engine_kind is None
           else engine_kind.new_database(f"poison{next(_databases)}"))
    with TestClient(create_app(settings.model_copy(update={"database_url": url})), base_url=API_BASE) as test_client:
        yield test_client


_GOVERNOR = {}


def _governor_address() -> str:
    return _GOVERNOR["address"]


def _vote_directly(proposal_chain_id: int, reason: bytes) -> str:
    """A stranger with no points votes FOR with `reason`; returns the voter's address."""
    voter = accounts.add()
    accounts[0].transfer(voter, "1 ether")
    data = keccak(text="castVoteWithReason(uint256,uint8,string)")[:4] + encode(
        ["uint256", "uint8", "bytes"], [proposal_chain_id, FOR, reason])
    tx = voter.transfer(_governor_address(), 0, data="0x" + data.hex(), gas_limit=8_000_000)
    assert tx.status == 1
    return voter.address


def _indexed_to_head(client) -> dict:
    return wait_for(lambda: (h := client.get("/health").json())["indexed_to_block"] == h["block_number"] and h,
                    timeout=60, what="indexer at the head")


def _proposal_votes(proposal_chain_id: int) -> tuple[int, int, int]:
    governor = _GOVERNOR["contract"]
    return tuple(governor.proposalVotes(proposal_chain_id))


@pytest.fixture(autouse=True)
def governor(suite):
    _GOVERNOR.update(address=suite.governor.address, contract=suite.governor)


def test_votes_with_poisoned_reasons_are_counted_and_the_indexer_reaches_the_head(client, suite):
    community = Community(client)
    proposer = community.member_with_points()
    proposal = active_proposal(client, proposer)
    chain_id = int(proposal["proposal_id"])
    member_vote = proposer.post(f"/proposals/{proposal['id']}/votes", {"support": FOR})
    assert member_vote.status_code == 202, member_vote.text
    strangers = {reason: _vote_directly(chain_id, reason) for reason in (INVALID_UTF8, WITH_NUL, HUGE)}

    votes = wait_for(lambda: (v := client.get(f"/proposals/{proposal['id']}/votes", params={"limit": 50}).json())
                     and len(v) == 4 and all(x["status"] == "confirmed" for x in v) and v, what="every vote indexed")
    health = _indexed_to_head(client)
    assert health["status"] == "ok" and health["skipped_logs_24h"] == 0, health["problems"]
    by_voter = {v["voter"]: v for v in votes}
    assert by_voter[strangers[INVALID_UTF8]]["reason"] == INVALID_UTF8.decode("utf-8", "replace")
    assert by_voter[strangers[WITH_NUL]]["reason"] == "beforeafter"
    assert by_voter[strangers[HUGE]]["reason"] == HUGE.decode()
    shown = wait_state(client, proposal["id"], "active")["votes"]
    against, for_, abstain = _proposal_votes(chain_id)
    assert (shown["against"], shown["for"], shown["abstain"]) == (against, for_, abstain) and for_ == 10


def test_a_proposal_with_a_poisoned_description_is_listed(client, suite):
    community = Community(client)
    wallet_member = community.member_with_points(OwnWalletMember(client))
    wallet: Account = wallet_member.wallet
    accounts[0].transfer(wallet.address, "1 ether")
    description = INVALID_UTF8 + WITH_NUL + HUGE
    data = keccak(text="propose(address[],uint256[],bytes[],string)")[:4] + encode(
        ["address[]", "uint256[]", "bytes[]", "bytes"], [[wallet.address], [0], [b""], description])
    signed = wallet.sign_transaction({
        "to": _governor_address(), "data": "0x" + data.hex(), "value": 0, "gas": 12_000_000, "chainId": 31337,
        "nonce": web3.eth.get_transaction_count(wallet.address), "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 0})
    receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1

    health = _indexed_to_head(client)
    assert health["status"] == "ok" and health["skipped_logs_24h"] == 0, health["problems"]
    listed = [p for p in client.get("/proposals").json() if p["kind"] == "external"]
    assert len(listed) == 1 and listed[0]["proposer_address"] == wallet.address
    assert "\x00" not in listed[0]["title_en"] and "\ufffd" in listed[0]["title_en"]


def test_a_log_that_cannot_be_applied_is_skipped_and_named_and_the_others_are_applied(client, suite, monkeypatch):
    community = Community(client)
    proposer = community.member_with_points()
    proposal = active_proposal(client, proposer)
    chain_id = int(proposal["proposal_id"])
    applied = record.record_vote_cast

    def fails_for_one_voter(session, args, *rest):  # a bug nobody foresaw, met by one log only
        if args["reason"] == "trigger":
            raise ValueError("an unforeseen log")
        return applied(session, args, *rest)

    monkeypatch.setattr("backend.indexer.service.record_vote_cast", fails_for_one_voter)
    bad = _vote_directly(chain_id, b"trigger")
    good = _vote_directly(chain_id, b"fine")

    health = _indexed_to_head(client)
    assert health["status"] == "degraded" and health["skipped_logs_24h"] == 1
    (problem,) = [p for p in health["problems"] if "skipped" in p]
    assert "ValueError: an unforeseen log" in problem and "log " in problem
    voters = {v["voter"] for v in client.get(f"/proposals/{proposal['id']}/votes").json()}
    assert good in voters and bad not in voters
    # the cursor moved on: later blocks are indexed too
    later = _vote_directly(chain_id, b"after the skipped one")
    _indexed_to_head(client)
    assert later in {v["voter"] for v in client.get(f"/proposals/{proposal['id']}/votes").json()}
