"""Relayer transactions hold whatever block they land in (issue 23; the rules in backend/relayer/timing.py, the
figures in docs/gas.md, "The relayer's gas limits").

Each test pauses mining while the relayer signs, puts first in the next block what makes the relayer's transaction
cost more than it did when signed, and mines: a proposal that registers its snapshot (every account the transaction
touches then writes an entry into its voting history), a block some seconds after the one the relayer saw (an
account changed in that block writes its entry only in a later one), or new badges of the voters. Where the old
limit (an estimate plus 25%) fell short, the test shows it against an estimate made in the block before. The autouse
check in conftest.py fails any test in which a transaction of the backend reverted.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from brownie import accounts, web3
from eth_account import Account
from sqlalchemy import select

from backend.accounts.models import ExportStatus, WalletExport
from backend.claims.models import Claim
from backend.governance.models import RelayStatus, Vote
from backend.organizations.models import Organization
from backend.platform.models import OutboundTx, TxStatus
from backend.relayer import timing
from tests.backend.conftest import Api, codes, organizer_with_event, wait_confirmed, wait_for
from tests.backend.governance_helpers import (  # noqa: F401 - chain_time_restored is an autouse fixture
    FOR,
    SETTINGS,
    Community,
    OwnWalletMember,
    active_proposal,
    chain_time_restored,
    governance_suite,
    grant_body,
    travel,
    wait_state,
)
from tests.backend.test_wallet_export import siwe_proof

suite = governance_suite()

TIP = 2 * 10**9  # a tip that puts the test's own transaction before the relayer's (no tip) in the block


# ---------------------------------------------------------------------------------------------------- the chain


def rpc(method: str, params: list):
    response = web3.provider.make_request(method, params)
    assert "error" not in response, response
    return response.get("result")


@contextmanager
def mining_paused():
    rpc("evm_setAutomine", [False])
    try:
        yield
    finally:
        rpc("evm_setAutomine", [True])


def mine(seconds: int = 5) -> int:
    """One block, `seconds` after the latest, with everything pending; its number."""
    rpc("evm_setNextBlockTimestamp", [web3.eth.get_block("latest")["timestamp"] + seconds])
    rpc("evm_mine", [])
    return web3.eth.block_number


@contextmanager
def base_fee(wei: int):
    """Blocks with a base fee from now on (it falls by 1/8 a block); the next test's blocks have none again (a chain
    snapshot's revert keeps the node's base fee)."""
    rpc("anvil_setNextBlockBaseFeePerGas", [hex(wei)])
    mine(seconds=1)
    try:
        yield
    finally:
        rpc("anvil_setNextBlockBaseFeePerGas", ["0x0"])
        mine(seconds=1)


def send_first(sender, to: str, data: str) -> str:
    """A transaction of the test's own, with the tip that puts it first in the next block. `sender`: a key, or an
    account the node holds."""
    tx = {"chainId": 31337, "to": to, "data": data, "value": 0, "gas": 5_000_000, "type": 2,
          "maxPriorityFeePerGas": TIP, "maxFeePerGas": 2 * TIP}
    if isinstance(sender, str):
        return web3.eth.send_transaction({**tx, "from": sender}).to_0x_hex()
    signed = sender.sign_transaction({**tx, "nonce": web3.eth.get_transaction_count(sender.address, "pending")})
    return web3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()


def propose_first(suite, wallet) -> str:
    """`wallet` (a member with points and ETH) proposes, first in the next block: the proposal registers its
    snapshot, ahead of every account's last change."""
    data = suite.governor.propose.encode_input([wallet.address], [0], [b""], f"gas limits {time.time_ns()}")
    return send_first(wallet, suite.governor.address, data)


def sent_by_relayer(client, purpose: str, count: int = 1) -> list[OutboundTx]:
    """The relayer's transactions of `purpose` broadcast and not mined yet, once there are `count` of them."""
    def broadcast():
        with client.app.state.session_factory() as session:
            txs = session.scalars(select(OutboundTx).where(OutboundTx.purpose == purpose,
                                                           OutboundTx.status == TxStatus.broadcast)).all()
        return len(txs) >= count and txs

    return wait_for(broadcast, what=f"{count} {purpose} transaction(s) broadcast")


def mined(client, tx: OutboundTx) -> dict:
    """The receipt of the relayer's `tx` once the relayer has settled it."""
    def settled():
        with client.app.state.session_factory() as session:
            stored = session.get(OutboundTx, tx.id)
            return stored.status != TxStatus.broadcast and stored
    stored = wait_for(settled, what=f"{tx.purpose} settled")
    assert stored.status == TxStatus.mined, stored.last_error
    return web3.eth.get_transaction_receipt(stored.tx_hash)


def landed_after(client, first: str, tx: OutboundTx) -> dict:
    """The receipt of the relayer's `tx`, mined after `first` in the same block."""
    receipt, before = mined(client, tx), web3.eth.get_transaction_receipt(first)
    assert before["status"] == 1 and before["blockNumber"] == receipt["blockNumber"]
    assert before["transactionIndex"] < receipt["transactionIndex"]
    return receipt


def old_limit(receipt: dict) -> int:
    """The limit the relayer used to give the same call: an estimate in the block before, plus 25%."""
    sent = web3.eth.get_transaction(receipt["transactionHash"])
    call = {"from": sent["from"], "to": sent["to"], "data": sent["input"].to_0x_hex(), "value": sent["value"]}
    return int(web3.eth.estimate_gas(call, receipt["blockNumber"] - 1) * 1.25)


# ---------------------------------------------------------------------------------------------------- the community


def member_with_a_wallet(client, community: Community) -> OwnWalletMember:
    """A member signed in with an own wallet, holding the points to propose and ETH to send the proposal."""
    member = community.member_with_points(OwnWalletMember(client))
    accounts[0].transfer(member.wallet.address, "1 ether")
    return member


def sign_ups(client, count: int) -> list[Api]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: Api(client), range(count)))


def claim_all(community: Community, event: dict, members: list[Api]) -> list[int]:
    return claim_with_codes(community.organizer, event, members)


def claim_with_codes(organizer: Api, event: dict, members: list[Api]) -> list[int]:
    """Each member claims `event` with a code of its own from `organizer`'s sheet, all at once; the claim ids."""
    secrets = codes(organizer, event["id"], len(members))
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda pair: pair[0].post(f"/events/{event['id']}/claims",
                                                            {"method": "code", "secret": pair[1]}),
                                  zip(members, secrets)))
    assert [r.status_code for r in responses] == [202] * len(members), [r.text for r in responses]
    return [r.json()["id"] for r in responses]


def all_confirmed(members: list[Api], claim_ids: list[int]) -> None:
    for member, claim_id in zip(members, claim_ids):
        wait_confirmed(member, claim_id, timeout=120)


def one_batch_of(monkeypatch, size: int) -> None:
    """From now on the relayer sends an event's claims in one batch once `size` of them are waiting."""
    monkeypatch.setattr(timing, "BATCH_WINDOW_S", 60)
    monkeypatch.setattr(timing, "ISSUE_BATCH", size)


class OutsideIssuer:
    """An organization of the test's own, its issuer an account the node holds: its badges land when the test
    wants them to, first in a block."""

    def __init__(self, suite):
        self.badges, self.issuer = suite.badges, accounts[2]
        # the registrar is the relayer's key: used here before any app of the module runs, so no nonce is shared
        created = self.badges.createOrganization(self.issuer, {"from": accounts[1]})
        self.organization = created.events["OrganizationCreated"]["organizationId"]
        self.badges.grantRole(self.badges.organizationIssuerRole(self.organization), self.issuer,
                              {"from": self.issuer})

    def new_event(self) -> int:
        now = web3.eth.get_block("latest")["timestamp"]
        created = self.badges.createEvent(self.organization, "", 10, now - 3600, now + 30 * 24 * 3600, 0,
                                          {"from": self.issuer})
        return created.events["EventCreated"]["eventId"]

    def issue(self, event: int, recipients: list[str]) -> str:
        return send_first(self.issuer.address, self.badges.address, self.badges.issue.encode_input(event, recipients))


@pytest.fixture(scope="module")
def outside_issuer(suite):
    return OutsideIssuer(suite)


# ---------------------------------------------------------------------------------------------------- issue


def test_a_hundred_returning_members_get_their_badges_when_a_proposal_lands_just_before_their_batch(
        client, suite, monkeypatch):
    community = Community(client)
    proposer = member_with_a_wallet(client, community)
    members = sign_ups(client, 100)
    one_batch_of(monkeypatch, 100)
    all_confirmed(members, claim_all(community, community.event, members))
    second = community.new_event()

    with mining_paused():
        claims = claim_all(community, second, members)
        (issue,) = sent_by_relayer(client, "issue")
        proposal = propose_first(suite, proposer.wallet)
        mine()

    all_confirmed(members, claims)
    receipt = landed_after(client, proposal, issue)
    assert receipt["gasUsed"] > old_limit(receipt)  # 101 history entries (each member and the supply)
    holders = [m.me()["wallet_address"] for m in members]
    assert list(suite.badges.balanceOfBatch(holders, [second["token_id"]] * 100)) == [1] * 100


def test_members_who_claim_a_second_event_right_after_their_first_badge_get_both(client, suite, monkeypatch):
    """First-time members, then returning ones whose batch is signed while their first badge is the latest block:
    at that block's time their history needs no entry, seconds later (a proposal's snapshot ahead) it does."""
    community = Community(client)
    propose_first(suite, member_with_a_wallet(client, community).wallet)  # mined at once: mining runs
    members = sign_ups(client, 20)
    second = community.new_event()
    one_batch_of(monkeypatch, 20)

    with mining_paused():
        first_claims = claim_all(community, community.event, members)
        (first,) = sent_by_relayer(client, "issue")
        mine()
        all_confirmed(members, first_claims)
        second_claims = claim_all(community, second, members)
        (issue,) = sent_by_relayer(client, "issue")
        mine()

    all_confirmed(members, second_claims)
    assert mined(client, first)["status"] == 1
    receipt = mined(client, issue)
    assert receipt["gasUsed"] > old_limit(receipt)


# ---------------------------------------------------------------------------------------------------- migrate


def test_a_member_with_twenty_badges_moves_to_an_own_wallet_when_a_proposal_lands_first(client, suite,
                                                                                        outside_issuer):
    community = Community(client)
    proposer = member_with_a_wallet(client, community)
    member = Api(client)
    events = [community.event] + [community.new_event() for _ in range(19)]
    claims = [member.post(f"/events/{e['id']}/claims",
                          {"method": "code", "secret": codes(community.organizer, e["id"], 1)[0]}).json()["id"]
              for e in events]
    all_confirmed([member] * 20, claims)
    own = Account.create()
    outside_issuer.issue(outside_issuer.new_event(), [own.address])  # points of its own: its history gets an entry
    wait_for(lambda: suite.points.balanceOf(own.address) == 10, what="outside badge")

    with mining_paused():
        response = member.post("/me/wallet/export", {"password": member.password, **siwe_proof(client, own)})
        assert response.status_code == 202, response.text
        (migrate,) = sent_by_relayer(client, "migrate")
        proposal = propose_first(suite, proposer.wallet)
        mine()

    export = wait_for(lambda: (e := member.get("/me/wallet/export").json())["status"] in ("done", "failed") and e,
                      what="export settled")
    assert export["status"] == "done", export
    assert len(suite.badges.badgesOf(own.address)) == 21 and suite.points.balanceOf(own.address) == 210
    receipt = landed_after(client, proposal, migrate)
    assert receipt["gasUsed"] > old_limit(receipt)  # entries for the old and the new address


# ---------------------------------------------------------------------------------------------------- delegate


def test_a_delegation_is_confirmed_when_a_proposal_lands_first(client, suite):
    community = Community(client)
    proposer = member_with_a_wallet(client, community)
    truster, neighbour = community.member_with_points(), community.member_with_points()
    neighbour_address = neighbour.me()["wallet_address"]

    with mining_paused():
        assert truster.post("/me/delegation", {"delegatee": neighbour_address}).status_code == 202
        (delegate,) = sent_by_relayer(client, "delegate")
        proposal = propose_first(suite, proposer.wallet)
        mine()

    receipt = landed_after(client, proposal, delegate)
    assert receipt["gasUsed"] > old_limit(receipt)  # entries for both members
    assert suite.points.getVotes(neighbour_address) == 20
    wait_for(lambda: truster.get("/me/delegation").json()["delegate"] == neighbour_address, what="delegated")


# ---------------------------------------------------------------------------------------------------- votes


def test_votes_are_counted_when_the_voters_new_badges_land_in_the_same_block(client, suite, monkeypatch,
                                                                             outside_issuer):
    """The first ballots of a proposal (new counters), and the voters' points change after the snapshot just before
    (their voting power at the snapshot is then looked up in their history)."""
    community = Community(client)
    proposer = community.member_with_points()
    voters = [community.member_with_points() for _ in range(5)]
    proposal = active_proposal(client, proposer)
    event = outside_issuer.new_event()
    monkeypatch.setattr(timing, "BATCH_WINDOW_S", 60)
    monkeypatch.setattr(timing, "MAX_VOTE_BATCH", len(voters))

    with mining_paused():
        for voter in voters:
            response = voter.post(f"/proposals/{proposal['id']}/votes", {"support": FOR})
            assert response.status_code == 202, response.text
        (batch,) = sent_by_relayer(client, "vote")
        badges = outside_issuer.issue(event, [v.me()["wallet_address"] for v in voters])
        mine()

    landed_after(client, badges, batch)
    with client.app.state.session_factory() as session:
        assert set(session.scalars(select(Vote.status)).all()) == {RelayStatus.confirmed}
    assert [int(v) for v in suite.governor.proposalVotes(int(proposal["proposal_id"]))] == [0, 50, 0]


# ---------------------------------------------------------------------------------------------------- propose


def test_a_members_proposal_goes_on_chain_when_it_lands_seconds_after_its_estimate(client, suite):
    """The estimate runs at the latest block's time, whose snapshot another proposal registered already; the block
    comes seconds later, and registering that second's snapshot is a new slot."""
    community = Community(client)
    other = member_with_a_wallet(client, community)
    member = community.member_with_points()
    propose_first(suite, other.wallet)  # mined at once: mining runs

    with mining_paused():
        created = member.post("/proposals", {"kind": "text", "title_ja": "兼六園の朝の清掃", "title_en":
                                             "Morning clean-up at Kenroku-en"})
        assert created.status_code == 202, created.text
        (propose,) = sent_by_relayer(client, "propose")
        mine()

    wait_state(client, created.json()["id"], "pending")
    receipt = mined(client, propose)
    assert receipt["gasUsed"] > old_limit(receipt) / 1.25  # more than the estimate saw


# ---------------------------------------------------------------------------------------------------- queue, execute


def test_a_passed_grant_is_queued_and_paid_when_its_blocks_come_late(client, suite):
    community = Community(client)
    proposer = community.member_with_points()
    accounts[8].transfer(suite.timelock, "1 ether")
    recipient = Account.create().address
    proposal = proposer.post("/proposals", grant_body(recipient)).json()
    wait_state(client, proposal["id"], "pending")
    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, proposal["id"], "active")
    assert proposer.post(f"/proposals/{proposal['id']}/votes", {"support": FOR}).status_code == 202
    wait_for(lambda: client.get(f"/proposals/{proposal['id']}").json()["votes"]["for"] == 10, what="vote counted")
    travel(SETTINGS.voting_period_s + 1)

    with mining_paused():
        (queue,) = sent_by_relayer(client, "queue")
        mine(seconds=3600)
    assert mined(client, queue)["status"] == 1
    wait_state(client, proposal["id"], "queued")
    travel(SETTINGS.timelock_delay_s + 1)
    with mining_paused():
        (execute,) = sent_by_relayer(client, "execute")
        mine(seconds=3600)

    assert mined(client, execute)["status"] == 1
    wait_state(client, proposal["id"], "executed")
    assert web3.eth.get_balance(recipient) == 5 * 10**17


# ---------------------------------------------------------------------------------------------------- top-ups


def test_an_organizations_first_event_is_created_when_gas_has_a_price(client, suite):
    """The organization's key holds no ETH: the relayer tops it up (a plain transfer, exactly 21,000 gas)."""
    with base_fee(10**9):
        _, org, event = organizer_with_event(client)
    with client.app.state.session_factory() as session:
        top_ups = session.scalars(select(OutboundTx).where(OutboundTx.purpose == "fund")).all()
    assert top_ups and {(t.status, t.gas_used, t.gas_limit) for t in top_ups} == {(TxStatus.mined, 21_000, 21_000)}
    assert web3.eth.get_balance(org["issuer_address"]) > 0


# ---------------------------------------------------------------------------------------------------- out of gas


@pytest.mark.reverts_on_purpose
def test_a_claim_whose_transaction_ran_out_of_gas_is_confirmed_by_the_resend(client, suite, monkeypatch):
    organizer, org, event = organizer_with_event(client)
    # a limit short of what a first-time claim costs, sent without the run in the node that would catch it
    monkeypatch.setattr(timing, "issue_gas", lambda recipients, hooks=0: 90_000)
    monkeypatch.setattr(client.app.state.services.relayer, "_simulate", lambda *args: None)
    (code,) = codes(organizer, event["id"], 1)
    member = Api(client)
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()

    confirmed = wait_confirmed(member, claim["id"])
    with client.app.state.session_factory() as session:
        out_of_gas, resent = session.scalars(select(OutboundTx).where(OutboundTx.purpose == "issue")
                                             .order_by(OutboundTx.id)).all()
        assert out_of_gas.status == TxStatus.reverted and out_of_gas.gas_limit == 90_000
        assert out_of_gas.gas_used >= timing.OUT_OF_GAS_USED * out_of_gas.gas_limit
        assert resent.status == TxStatus.mined and resent.gas_limit == 2 * out_of_gas.gas_used
        assert confirmed["tx_hash"] == resent.tx_hash
        assert session.get(Claim, claim["id"]).attempts == 0
        # every receipt counted once in the organization's gas, the reverted one included
        org_txs = session.scalars(select(OutboundTx).where(OutboundTx.organization_id == org["id"])).all()
        assert session.get(Organization, org["id"]).gas_used == sum(t.gas_used for t in org_txs)
        assert out_of_gas in org_txs


@pytest.mark.reverts_on_purpose
def test_an_export_whose_migration_ran_out_of_gas_completes_with_the_resend(client, suite, monkeypatch):
    organizer, _, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    member = Api(client)
    wait_confirmed(member, member.post(f"/events/{event['id']}/claims",
                                       {"method": "code", "secret": code}).json()["id"])
    monkeypatch.setattr(timing, "GAS_MARGIN", 0.6)  # a limit short of the estimate
    monkeypatch.setattr(timing, "HISTORY_ENTRIES", {})
    own = Account.create()

    response = member.post("/me/wallet/export", {"password": member.password, **siwe_proof(client, own)})
    assert response.status_code == 202, response.text
    export = wait_for(lambda: (e := member.get("/me/wallet/export").json())["status"] in ("done", "failed") and e,
                      what="export settled")

    assert export["status"] == "done", export
    assert suite.badges.balanceOf(own.address, event["token_id"]) == 1
    with client.app.state.session_factory() as session:
        statuses = session.scalars(select(OutboundTx.status).where(OutboundTx.purpose == "migrate")
                                   .order_by(OutboundTx.id)).all()
        assert statuses == [TxStatus.reverted, TxStatus.mined]
        assert session.scalar(select(WalletExport.status)) == ExportStatus.done
