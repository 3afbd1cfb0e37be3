"""The rules of governance, the member's journey: what a proposal needs (threshold, parameter bounds, grant amounts,
a treasury that covers them, no duplicate), when a vote is refused (ballot form, voting window by the governor's
state and clock, voting power, a second vote) and what is stored, delegation signatures and their expiry, the
official text, and the treasury's reports. The governor's answers are given as values (or a fake read batcher):
no chain."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from types import SimpleNamespace

import pytest
from eth_account import Account
from sqlalchemy import select

from backend.accounts.models import CustodialKey, ExportStatus, User, WalletExport, WalletKind
from backend.governance import ballots, delegation, proposals, treasury, votes
from backend.governance.actions import PARAMETERS
from backend.governance.models import Delegation, Proposal, ProposalKind, RelayStatus, Vote
from backend.governance.schemas import DelegationCreate, ProposalCreate, VoteCreate
from backend.governance.state import chain_now
from backend.governance.text import HASH_LABEL, canonical_text, description, text_sha256
from backend.platform.chain.eip712 import SECP256K1_HALF_N, recover_typed, sign_typed
from backend.platform.db import session_factory
from backend.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unprocessable
from backend.platform.keys import KeyVault
from backend.platform.models import IndexerCursor
from tests.services.errors import refused

GOVERNOR = "0x" + "6" * 40
POINTS = "0x" + "7" * 40
TIMELOCK = "0x" + "8" * 40
RECIPIENT = "0x" + "9" * 40
NOW = 1_800_000_000  # the governor's clock (a block timestamp)
DOMAIN = {"name": "KyosoGovernor", "version": "1", "chainId": 31337, "verifyingContract": GOVERNOR}
POINTS_DOMAIN = {"name": "KyosoPoints", "version": "1", "chainId": 31337, "verifyingContract": POINTS}
PENDING, ACTIVE = ballots.PROPOSAL_STATES.index("pending"), ballots.PROPOSAL_STATES.index("active")
DEFEATED, SUCCEEDED = ballots.PROPOSAL_STATES.index("defeated"), ballots.PROPOSAL_STATES.index("succeeded")


class Answer:
    def __init__(self, value):
        self.value = value

    def call(self):
        return self.value


class FakeContract:
    """A contract whose view functions give fixed answers (`name=value`)."""

    def __init__(self, address: str, **answers):
        self.address = address
        self.functions = SimpleNamespace(**{name: (lambda *_args, v=value: Answer(v))
                                            for name, value in answers.items()})


class FakeNode:
    """web3 for the treasury: the timelock's ETH balance, and token contracts that do not answer as ERC-20s."""

    def __init__(self, balance: int):
        self.eth = SimpleNamespace(get_balance=lambda _holder: balance, contract=self._contract)

    @staticmethod
    def _contract(address, abi):
        def broken(*_args):
            raise ValueError("no code at this address")
        return SimpleNamespace(functions=SimpleNamespace(symbol=broken, decimals=broken, balanceOf=broken))


class FakeReads:
    """The read batcher, answering the vote's governor reads (state, clock, hasVoted, nonce, getVotes)."""

    def __init__(self, state: int, clock: int = NOW, voted: bool = False, nonce: int = 0, power: int = 10):
        self.answers = [state, clock, voted, nonce, power]

    async def read_many_async(self, contract, calls):
        return self.answers[:len(calls)]


@pytest.fixture(autouse=True)
def known_domains():
    """The contracts' EIP-712 domains, as if read once from eip712Domain()."""
    ballots._domains.update({GOVERNOR: DOMAIN, POINTS: POINTS_DOMAIN})
    yield
    ballots._domains.pop(GOVERNOR, None)
    ballots._domains.pop(POINTS, None)


@pytest.fixture
def vault() -> KeyVault:
    return KeyVault(base64.b64encode(os.urandom(32)).decode())


def add_user(session, n: int, vault: KeyVault | None = None, kind: WalletKind = WalletKind.custodial) -> User:
    """A member as the vote route gets it: detached, with its columns loaded (and a sealed key if custodial)."""
    account = Account.create()
    user = User(email=f"member{n}@example.jp", wallet_address=account.address, wallet_kind=kind)
    if vault is not None:
        sealed = vault.seal(account)
        user.custodial_key = CustodialKey(address=sealed.address, sealed=sealed.ciphertext)
    session.add(user)
    session.commit()
    session.refresh(user)
    session.expunge(user)
    user.account = account  # the test signs as the member's wallet
    return user


def add_proposal(session, *, status=RelayStatus.confirmed, snapshot: int | None = NOW - 100,
                 deadline: int | None = NOW + 3600, n: int = 1, **fields) -> Proposal:
    fields.setdefault("kind", ProposalKind.text)
    proposal = Proposal(proposal_id=str(10**70 + n), proposer_address=RECIPIENT, title_ja="図書館の開館時間",
                        title_en="Library hours", body_ja="本文", body_en="Body",
                        description="# 図書館の開館時間 / Library hours", actions={}, status=status, snapshot=snapshot,
                        deadline=deadline, **fields)
    session.add(proposal)
    session.commit()
    return proposal


def add_vote(session, proposal: Proposal, user: User, support: int = 1, **fields) -> Vote:
    fields = {"reason": "", "signature": b"\x01" * 65, **fields}
    vote = Vote(proposal_id=proposal.id, voter=user.wallet_address, user_id=user.id, support=support, points=10,
                **fields)
    session.add(vote)
    session.commit()
    return vote


def cast(engine, *, user, proposal, body, reads=None, vault=None, writes=None):
    """Casts as the route does: a session of its own, closed by the service."""
    contracts = SimpleNamespace(governor=FakeContract(GOVERNOR), points=FakeContract(POINTS))
    return asyncio.run(votes.cast(session=session_factory(engine)(), writes=writes, chain_reads=reads, vault=vault,
                                  contracts=contracts, user=user, proposal_id=proposal.id, body=body))


def high_s(signature: bytes) -> bytes:
    """The same signature with s mirrored into the upper half of the curve order (valid math, refused by Ethereum)."""
    s = int.from_bytes(signature[32:64], "big")
    v = 55 - signature[64]  # 27 <-> 28
    return signature[:32] + (2 * SECP256K1_HALF_N + 1 - s).to_bytes(32, "big") + bytes([v])


# ---------------------------------------------------------------------------------------------------- proposing


def test_proposing_needs_the_threshold_and_says_how_much():
    proposals.check_threshold(voting_power=100, threshold=100)
    error = refused(proposals.check_threshold, voting_power=99, threshold=100)
    assert isinstance(error, Forbidden)
    assert (error.code, error.params) == ("below_threshold", {"threshold": 100, "voting_power": 99})


@pytest.mark.parametrize("parameter", sorted(PARAMETERS))
def test_each_parameter_change_is_bounded(parameter):
    _contract, _function, low, high = PARAMETERS[parameter]
    proposals.check_parameter_value(parameter=parameter, value=low)
    proposals.check_parameter_value(parameter=parameter, value=high)
    for value in (low - 1, high + 1):
        error = refused(proposals.check_parameter_value, parameter=parameter, value=value)
        assert isinstance(error, Unprocessable)
        assert (error.code, error.params) == ("invalid_parameter_value",
                                              {"parameter": parameter, "low": low, "high": high})


def test_a_parameter_proposal_out_of_bounds_is_refused_before_anything_is_encoded():
    body = ProposalCreate(kind="parameter", title_ja="定足数", title_en="Quorum", parameter="quorum_percent", value=101)
    error = refused(proposals.actions_for, session=None, body=body, w3=None, contracts=None)
    assert error.code == "invalid_parameter_value"


def test_a_text_proposal_does_nothing_on_chain_but_call_the_timelock():
    body = ProposalCreate(kind="text", title_ja="決議", title_en="Resolution")
    timelock = FakeContract(TIMELOCK)
    acts, columns = proposals.actions_for(session=None, body=body, w3=None, contracts=SimpleNamespace(timelock=timelock))
    assert (acts.targets, acts.values, acts.calldatas, columns) == ([TIMELOCK], [0], [b""], {})


def test_grant_amounts_are_whole_units_with_at_most_the_tokens_decimals_and_more_than_zero():
    assert proposals.grant_amount(amount="0.5", decimals=18) == 5 * 10**17
    assert proposals.grant_amount(amount="1000", decimals=0) == 1000
    assert proposals.grant_amount(amount="123456789012345678901234567890.123456789012345678", decimals=18) == \
        123456789012345678901234567890123456789012345678
    for amount, decimals in (("0.001", 2), ("0", 18), ("0.000", 6)):
        error = refused(proposals.grant_amount, amount=amount, decimals=decimals)
        assert isinstance(error, Unprocessable)
        assert (error.code, error.params) == ("invalid_amount", {"decimals": decimals})


def test_an_eth_grant_pays_the_recipient_from_the_treasury():
    body = ProposalCreate(kind="grant", title_ja="助成", title_en="Grant", recipient=RECIPIENT, amount="0.25")
    acts, columns = proposals.actions_for(session=None, body=body, w3=FakeNode(balance=10**18),
                                          contracts=SimpleNamespace(timelock=FakeContract(TIMELOCK)))
    assert (acts.targets, acts.values, acts.calldatas) == ([RECIPIENT], [25 * 10**16], [b""])
    assert columns == {"grant_token": None, "grant_recipient": RECIPIENT, "grant_amount": str(25 * 10**16)}


def test_a_grant_larger_than_the_treasury_is_refused_with_what_it_holds():
    body = ProposalCreate(kind="grant", title_ja="助成", title_en="Grant", recipient=RECIPIENT, amount="2")
    error = refused(proposals.actions_for, session=None, body=body, w3=FakeNode(balance=15 * 10**17),
                    contracts=SimpleNamespace(timelock=FakeContract(TIMELOCK)))
    assert isinstance(error, Conflict)
    assert (error.code, error.params) == ("treasury_insufficient", {"held": "1.5", "symbol": "ETH"})


def test_a_grant_in_something_that_is_not_a_token_is_refused():
    token = "0x" + "a" * 40
    body = ProposalCreate(kind="grant", title_ja="助成", title_en="Grant", recipient=RECIPIENT, amount="1", token=token)
    error = refused(proposals.actions_for, session=None, body=body, w3=FakeNode(balance=0),
                    contracts=SimpleNamespace(timelock=FakeContract(TIMELOCK)))
    assert isinstance(error, Unprocessable)
    assert (error.code, error.params["token"]) == ("invalid_token", body.token)


def test_the_same_proposal_twice_is_a_duplicate_unless_the_first_never_reached_the_chain(session):
    made = add_proposal(session, status=RelayStatus.accepted)
    error = refused(proposals.clear_earlier, session=session, proposal_id=int(made.proposal_id))
    assert (error.status, error.code) == (409, "duplicate_proposal")

    made.status = RelayStatus.failed
    session.commit()
    proposals.clear_earlier(session=session, proposal_id=int(made.proposal_id))
    session.commit()
    assert session.scalar(select(Proposal)) is None


def test_a_custodial_member_whose_wallet_is_moving_cannot_propose(session):
    user = add_user(session, 1)
    proposals.check_wallet_not_moving(session=session, user=user)
    session.add(WalletExport(user_id=user.id, from_address=user.wallet_address, to_address=RECIPIENT, deadline=NOW,
                             signature=b"consent", status=ExportStatus.pending))
    session.commit()
    error = refused(proposals.check_wallet_not_moving, session=session, user=user)
    assert (error.status, error.code) == (409, "wallet_moving")


# ---------------------------------------------------------------------------------------------------- the official text


def test_the_canonical_text_is_sorted_compact_utf8_json_and_its_hash_is_in_the_description():
    canonical = canonical_text("題", "Title", "本文", "Body")
    assert canonical == '{"body_en":"Body","body_ja":"本文","title_en":"Title","title_ja":"題"}'
    digest = text_sha256("題", "Title", "本文", "Body")
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    text = description("題", "Title", digest, RECIPIENT)
    assert text.startswith("# 題 / Title\n")
    assert f"{HASH_LABEL}: {digest}" in text
    assert text.endswith(f"#proposer={RECIPIENT}")  # only the proposer can submit it (no front-running)


def test_the_text_route_gives_what_anyone_can_hash_and_compare(session):
    digest = text_sha256("図書館の開館時間", "Library hours", "本文", "Body")
    proposal = add_proposal(session, text_sha256=digest)
    text = proposals.proposal_text(session=session, proposal_id=proposal.id)
    assert json.loads(text["canonical"])["title_en"] == "Library hours"
    assert hashlib.sha256(text["canonical"].encode()).hexdigest() == text["sha256"] == digest
    assert text["description"] == proposal.description


def test_a_proposal_that_does_not_exist_is_not_found(session):
    error = refused(proposals.proposal_text, session=session, proposal_id=404)
    assert isinstance(error, NotFound) and error.code == "proposal_not_found"
    assert refused(votes.list_votes, session=session, proposal_id=404).code == "proposal_not_found"


def test_the_votes_of_a_proposal_are_counted(session):
    proposal, other = add_proposal(session), add_proposal(session, n=2)
    for n in range(3):
        add_vote(session, proposal, add_user(session, n))
    add_vote(session, other, add_user(session, 3))
    assert votes.count_votes(session=session, proposal_id=proposal.id) == 3
    assert votes.count_votes(session=session, proposal_id=404) == 0


# ---------------------------------------------------------------------------------------------------- voting


def test_a_custodial_member_sends_no_signature_and_an_own_wallet_member_must():
    assert votes.ballot_signature(custodial=True, signature=None) is None
    error = refused(votes.ballot_signature, custodial=True, signature="0x" + "1" * 130)
    assert (error.status, error.code) == (400, "signature_not_expected")
    error = refused(votes.ballot_signature, custodial=False, signature=None)
    assert (error.status, error.code) == (400, "signature_required")


def test_a_malleable_or_malformed_ballot_signature_is_invalid_and_a_wallets_v_is_normalized():
    signature = sign_typed(Account.create().key, DOMAIN, *ballots.ballot(1, 1, RECIPIENT, 0, ""))
    assert votes.ballot_signature(custodial=False, signature="0x" + signature.hex()) == signature
    zero_one_v = signature[:64] + bytes([signature[64] - 27])
    assert votes.ballot_signature(custodial=False, signature="0x" + zero_one_v.hex()) == signature
    for bad in (high_s(signature), signature[:64] + b"\x05"):
        error = refused(votes.ballot_signature, custodial=False, signature="0x" + bad.hex())
        assert isinstance(error, Invalid) and error.code == "invalid_signature"


def test_voting_is_refused_before_it_opens_with_the_opening_time():
    error = refused(votes.check_window, state=PENDING, latest=NOW, snapshot=NOW + 59, deadline=NOW + 3600)
    assert (error.status, error.code) == (409, "voting_not_started")
    assert error.params["voting_starts_at"].timestamp() == NOW + 60


def test_voting_is_refused_once_the_governor_closed_it_with_the_state():
    error = refused(votes.check_window, state=DEFEATED, latest=NOW, snapshot=NOW - 100, deadline=NOW - 1)
    assert (error.status, error.code, error.params) == (409, "voting_closed", {"state": "defeated"})


def test_voting_is_refused_in_the_last_seconds_when_the_vote_could_not_reach_the_chain_in_time():
    votes.check_window(state=ACTIVE, latest=NOW, snapshot=NOW - 100, deadline=NOW + votes.VOTE_CLOSING_MARGIN_S)
    error = refused(votes.check_window, state=ACTIVE, latest=NOW, snapshot=NOW - 100,
                    deadline=NOW + votes.VOTE_CLOSING_MARGIN_S - 1)
    assert (error.status, error.code) == (409, "voting_closing")


def test_a_member_without_points_at_the_snapshot_cannot_vote():
    votes.check_voting_power(power=1, snapshot=NOW)
    error = refused(votes.check_voting_power, power=0, snapshot=NOW)
    assert (error.status, error.code) == (403, "no_voting_power")
    assert error.params["snapshot_at"].timestamp() == NOW


def test_a_second_different_vote_is_refused_with_the_first_votes_id(session, engine):
    user, proposal = add_user(session, 1), add_proposal(session)
    first = add_vote(session, proposal, user, support=1, signature=None)
    error = refused(cast, engine, user=user, proposal=proposal, body=VoteCreate(support=0))
    assert isinstance(error, Conflict)
    assert (error.code, error.params) == ("already_voted", {"vote_id": first.id})


def test_the_same_vote_sent_again_gets_the_same_answer(session, engine):
    user, proposal = add_user(session, 1), add_proposal(session)
    first = add_vote(session, proposal, user, support=2)
    again = cast(engine, user=user, proposal=proposal, body=VoteCreate(support=2))
    assert (again.id, again.support, again.status) == (first.id, 2, "accepted")


def test_a_vote_on_a_proposal_not_on_chain_yet_is_refused(session, engine):
    user, proposal = add_user(session, 1), add_proposal(session, status=RelayStatus.accepted)
    error = refused(cast, engine, user=user, proposal=proposal, body=VoteCreate(support=1))
    assert (error.status, error.code) == (409, "proposal_not_on_chain")


@pytest.mark.parametrize("state, clock, code", [(PENDING, NOW, "voting_not_started"),
                                                (DEFEATED, NOW, "voting_closed"),
                                                (ACTIVE, NOW + 3600 - 5, "voting_closing")])
def test_the_vote_route_applies_the_window_to_the_governors_state_and_clock(session, engine, state, clock, code):
    user, proposal = add_user(session, 1), add_proposal(session)
    error = refused(cast, engine, user=user, proposal=proposal, body=VoteCreate(support=1),
                    reads=FakeReads(state, clock=clock))
    assert error.code == code
    assert session.scalar(select(Vote)) is None


def test_a_wallet_that_voted_on_chain_without_kyoso_cannot_vote_through_kyoso(session, engine):
    user, proposal = add_user(session, 1), add_proposal(session)
    error = refused(cast, engine, user=user, proposal=proposal, body=VoteCreate(support=1),
                    reads=FakeReads(ACTIVE, voted=True))
    assert (error.code, error.params) == ("already_voted", {})


def test_the_vote_route_refuses_a_member_with_no_points_at_the_snapshot(session, engine):
    user, proposal = add_user(session, 1), add_proposal(session)
    error = refused(cast, engine, user=user, proposal=proposal, body=VoteCreate(support=1),
                    reads=FakeReads(ACTIVE, power=0))
    assert error.code == "no_voting_power"


def test_a_custodial_members_vote_is_signed_with_their_key_and_stored_for_the_relayer(session, engine, vault, writes):
    user, proposal = add_user(session, 1, vault), add_proposal(session)
    vote = cast(engine, user=user, proposal=proposal, body=VoteCreate(support=1, reason="賛成です"),
                reads=FakeReads(ACTIVE, nonce=7, power=42), vault=vault, writes=writes)
    assert (vote.status, vote.points, vote.support, vote.reason) == ("accepted", 42, 1, "賛成です")
    stored = session.get(Vote, vote.id)
    ballot = ballots.ballot(int(proposal.proposal_id), 1, user.wallet_address, 7, "賛成です")
    assert recover_typed(DOMAIN, *ballot, stored.signature) == user.wallet_address
    assert stored.status == RelayStatus.accepted


def test_an_own_wallet_ballot_signed_for_another_choice_is_invalid(session, engine, writes):
    user, proposal = add_user(session, 1, kind=WalletKind.own), add_proposal(session)
    pid = int(proposal.proposal_id)
    signed_against = sign_typed(user.account.key, DOMAIN, *ballots.ballot(pid, 0, user.wallet_address, 0, ""))
    error = refused(cast, engine, user=user, proposal=proposal,
                    body=VoteCreate(support=1, signature="0x" + signed_against.hex()),
                    reads=FakeReads(ACTIVE, nonce=0), writes=writes)
    assert (error.status, error.code, error.params["voter"]) == (400, "invalid_signature", user.wallet_address)

    vote = cast(engine, user=user, proposal=proposal, body=VoteCreate(support=0, signature="0x" + signed_against.hex()),
                reads=FakeReads(ACTIVE, nonce=0), writes=writes)
    assert (vote.status, vote.support) == ("accepted", 0)


def test_a_vote_that_failed_for_good_may_be_cast_again(session, engine, vault, writes):
    user, proposal = add_user(session, 1, vault), add_proposal(session)
    failed = add_vote(session, proposal, user, support=0, status=RelayStatus.failed)
    vote = cast(engine, user=user, proposal=proposal, body=VoteCreate(support=1), reads=FakeReads(ACTIVE),
                vault=vault, writes=writes)
    assert failed.status == RelayStatus.failed
    session.expire_all()  # the failed row is gone (SQLite may give its id to the new one)
    assert [(v.id, v.support, v.status) for v in session.scalars(select(Vote))] == [(vote.id, 1, RelayStatus.accepted)]


# ---------------------------------------------------------------------------------------------------- enacting


def test_queuing_or_executing_needs_the_right_state_and_the_timelock():
    proposals.check_advance(state=SUCCEEDED, wanted=SUCCEEDED)
    error = refused(proposals.check_advance, state=DEFEATED, wanted=SUCCEEDED)
    assert (error.code, error.params["state"]) == ("wrong_state", "defeated")
    proposals.check_timelock_passed(eta=NOW, latest=NOW)
    error = refused(proposals.check_timelock_passed, eta=NOW + 1, latest=NOW)
    assert error.code == "timelock_not_passed" and error.params["executable_at"].timestamp() == NOW + 1


# ---------------------------------------------------------------------------------------------------- delegation


def test_a_signed_delegation_must_be_complete_current_and_unexpired():
    signed = DelegationCreate(delegatee=RECIPIENT, nonce=3, expiry=NOW + 1, signature="0x" + "1" * 130)
    delegation.check_signed_delegation(body=signed, nonce=3, now=NOW)
    error = refused(delegation.check_signed_delegation, body=signed, nonce=3, now=NOW + 1)
    assert (error.status, error.code) == (400, "stale_delegation")
    error = refused(delegation.check_signed_delegation, body=signed, nonce=4, now=NOW)
    assert error.code == "stale_delegation"  # its nonce was used by a later delegation
    unsigned = DelegationCreate(delegatee=RECIPIENT, nonce=3, expiry=NOW + 1)
    assert refused(delegation.check_signed_delegation, body=unsigned, nonce=3, now=NOW).code == "signature_required"


def test_the_typed_data_to_sign_expires_after_the_validity_window():
    user = SimpleNamespace(wallet_address=RECIPIENT)
    points = FakeContract(POINTS, nonces=5)
    points.w3 = SimpleNamespace(to_checksum_address=lambda a: a)
    typed = delegation.delegation_to_sign(points=points, user=user, delegatee=TIMELOCK, now=NOW)
    assert typed["message"] == {"delegatee": TIMELOCK, "nonce": "5", "expiry": str(NOW + delegation.DELEGATION_VALID_S)}


def test_a_custodial_members_delegation_is_signed_with_their_key_and_a_second_waits(session, vault):
    user = session.merge(add_user(session, 1, vault))
    points = FakeContract(POINTS, nonces=0)
    row = delegation.delegate(session=session, points=points, vault=vault, user=user,
                              body=DelegationCreate(delegatee=RECIPIENT), now=NOW)
    assert (row.delegator, row.delegatee, row.status) == (user.wallet_address, RECIPIENT, "accepted")
    stored = session.get(Delegation, row.id)
    assert stored.expiry == NOW + delegation.DELEGATION_VALID_S
    signed = ballots.delegation(RECIPIENT, 0, stored.expiry)
    assert recover_typed(POINTS_DOMAIN, *signed, stored.signature) == user.wallet_address

    error = refused(delegation.delegate, session=session, points=points, vault=vault, user=user,
                    body=DelegationCreate(delegatee=TIMELOCK), now=NOW)
    assert (error.status, error.code, error.headers["Retry-After"]) == (409, "delegation_pending", "10")


def test_a_custodial_member_sends_no_delegation_signature_and_an_own_wallet_member_signs_to_undelegate(session, vault):
    custodial = session.merge(add_user(session, 1, vault))
    error = refused(delegation.delegate, session=session, points=FakeContract(POINTS, nonces=0), vault=vault,
                    user=custodial, body=DelegationCreate(delegatee=RECIPIENT, signature="0x" + "1" * 130))
    assert error.code == "signature_not_expected"
    own = add_user(session, 2, kind=WalletKind.own)
    error = refused(delegation.undelegate, session=session, points=None, vault=vault, user=own)
    assert (error.status, error.code) == (400, "signature_required")


def test_an_own_wallet_delegation_signed_by_someone_else_is_invalid(session):
    user = add_user(session, 1, kind=WalletKind.own)
    stranger = Account.create()
    signature = sign_typed(stranger.key, POINTS_DOMAIN, *ballots.delegation(RECIPIENT, 0, NOW + 60))
    body = DelegationCreate(delegatee=RECIPIENT, nonce=0, expiry=NOW + 60, signature="0x" + signature.hex())
    error = refused(delegation.delegate, session=session, points=FakeContract(POINTS, nonces=0), vault=None,
                    user=user, body=body, now=NOW)
    assert (error.code, error.params) == ("invalid_signature", {"delegator": user.wallet_address,
                                                                "delegatee": RECIPIENT})
    assert session.scalar(select(Delegation)) is None


# ---------------------------------------------------------------------------------------------------- treasury


def test_the_reports_list_every_proposal_with_its_state_and_every_vote(session):
    session.add(IndexerCursor(name="governance", next_block=10, block_timestamp=NOW))
    session.commit()
    assert chain_now(session) == NOW
    voter = add_user(session, 1)
    proposal = add_proposal(session, snapshot=NOW - 100, deadline=NOW + 100)
    add_vote(session, proposal, voter, support=0, reason="=HYPERLINK()")
    header, rows = treasury.report(session=session, w3=None, table="proposals")
    assert header[:4] == ["proposal", "onchain_id", "kind", "state"]
    assert rows == [[proposal.id, proposal.proposal_id, "text", "active", "図書館の開館時間", "Library hours",
                     RECIPIENT, 0, 0, 0, "", "", "", ""]]
    header, rows = treasury.report(session=session, w3=None, table="votes")
    assert header == ["proposal", "voter", "support", "weight", "points", "reason", "status", "tx_hash", "block"]
    assert rows == [[proposal.id, voter.wallet_address, "against", "", 10, "=HYPERLINK()", "accepted", "", ""]]


def test_only_grants_paid_are_payouts(session):
    paid = add_proposal(session, n=1, kind=ProposalKind.grant, grant_recipient=RECIPIENT, grant_amount="5",
                        executed_tx="0x" + "e" * 64)
    add_proposal(session, n=2, kind=ProposalKind.grant, grant_recipient=RECIPIENT, grant_amount="7")
    add_proposal(session, n=3, kind=ProposalKind.grant, grant_recipient=RECIPIENT, grant_amount="9",
                 closed_state="executed")
    assert [p.id for p in treasury.executed_grants(session)] == [paid.id, paid.id + 2]
    header, rows = treasury.report(session=session, w3=None, table="payouts")
    assert [(r[0], r[4], r[6], r[7]) for r in rows] == [(paid.id, "ETH", "0.000000000000000005", "5"),
                                                        (paid.id + 2, "ETH", "0.000000000000000009", "9")]
