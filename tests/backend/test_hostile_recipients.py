"""One hostile recipient does not hold up a batch (issue 24): members who sign in with their own wallet choose the
address their badges go to, and its code (a contract wallet, or an account with EIP-7702 delegated code) may refuse
the badge, burn every unit of gas its hook is given, or accept in the relayer's run and refuse in the block. The others
of its batch are confirmed together, the hostile claim fails with the hook's reason, and the address is refused (409
recipient_refuses_badges) until its code changes. Real contracts on Anvil; the EIP-7702 account is delegated with a
real type-4 transaction."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from brownie import HostileReceiver, OwnerSignedWallet, accounts, web3
from eth_account import Account
from sqlalchemy import select

from backend.claims.models import Claim, ClaimStatus
from backend.relayer import timing
from tests.backend.conftest import Api, codes, organizer_with_event, wait_confirmed, wait_for
from tests.backend.test_gas_limits import claim_with_codes as claim_all
from tests.backend.test_gas_limits import mine, mining_paused, send_first, sent_by_relayer
from tests.backend.test_siwe import contract_wallet_signature, eoa_signature, message_for

REFUSE, BURN_GAS, ACCEPT = 0, 1, 2
NO_BADGES_WANTED = "0x" + web3.keccak(text="NoBadgesWanted(uint256)")[:4].hex().removeprefix("0x")
BATCH = 100
KINDS = ("refuses", "burns gas", "eip-7702")


class WalletMember(Api):
    """A member who signed in with Sign-In with Ethereum at `address`: a contract wallet (EIP-1271, its owner signs)
    or an account of its own key, with EIP-7702 delegated code."""

    def __init__(self, client, address: str, sign):  # noqa: D107 - no sign-up: SIWE log-in instead
        self.client, self.address = client, address
        message = message_for(client, address, "login")
        response = client.post("/auth/siwe/login", json={"message": message, "signature": sign(message)})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}


def contract_wallet(mode: int):
    """A contract wallet whose hooks do what `mode` says, and a signer of its owner."""
    owner = Account.create()
    wallet = HostileReceiver.deploy(owner.address, mode, {"from": accounts[0]})
    return wallet, lambda message: contract_wallet_signature(owner, message)


def delegate(eoa, implementation: str) -> None:
    """EIP-7702: `eoa` delegates its code to `implementation`, by a type-4 transaction another funded key sends."""
    payer = Account.create()
    accounts[0].transfer(payer.address, "1 ether")
    authorization = Account.sign_authorization(
        {"chainId": 31337, "address": implementation, "nonce": web3.eth.get_transaction_count(eoa.address)}, eoa.key)
    fee = 2 * web3.eth.get_block("latest").get("baseFeePerGas", 0) + 10**9
    signed = payer.sign_transaction({
        "chainId": 31337, "nonce": 0, "to": Account.create().address, "value": 0, "data": b"", "gas": 100_000,
        "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**9, "authorizationList": [authorization], "type": 4})
    receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1 and receipt["type"] == 4
    assert bytes(web3.eth.get_code(eoa.address)) == bytes.fromhex("ef0100" + implementation[2:])


def hostile_member(client, kind: str) -> tuple[WalletMember, str]:
    """A member whose address turns badges down, and what the failure says."""
    if kind == "eip-7702":
        eoa = Account.create()
        implementation = HostileReceiver.deploy(Account.create().address, ACCEPT, {"from": accounts[0]})
        delegate(eoa, implementation.address)  # the account's own storage says Refuse (its first mode)
        member = WalletMember(client, eoa.address, lambda message: eoa_signature(eoa, message))
        member.eoa = eoa
        return member, NO_BADGES_WANTED
    wallet, sign = contract_wallet(REFUSE if kind == "refuses" else BURN_GAS)
    reason = NO_BADGES_WANTED if kind == "refuses" else "ERC1155InvalidReceiver"
    return WalletMember(client, wallet.address, sign), reason


def sign_ups(client, count: int) -> list[Api]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: Api(client), range(count)))


def claim_once(organizer: Api, event: dict, member: Api):
    (secret,) = codes(organizer, event["id"], 1)
    return member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})


def settled(member: Api, claim_id: int) -> dict:
    return wait_for(lambda: (c := member.get(f"/claims/{claim_id}").json())["status"] in ("confirmed", "failed") and c,
                    timeout=120, what=f"claim {claim_id} settled")


def one_batch_of(monkeypatch, size: int) -> None:
    """The relayer sends an event's claims in one batch once `size` of them are waiting."""
    monkeypatch.setattr(timing, "BATCH_WINDOW_S", 60)
    monkeypatch.setattr(timing, "ISSUE_BATCH", size)


def attempts_of(client, claim_ids: list[int]) -> list[int]:
    with client.app.state.session_factory() as session:
        return session.scalars(select(Claim.attempts).where(Claim.id.in_(claim_ids))).all()


# ---------------------------------------------------------------------------------------------------- in a batch


def test_the_others_of_a_batch_are_confirmed_in_one_transaction_and_each_hostile_claim_fails(client, suite,
                                                                                             monkeypatch):
    """One batch of 100 with a wallet of each kind that turns the badge down (refuses, burns all its gas, an EIP-7702
    account): the 97 others together, each hostile one failed with its reason (one batch for the three kinds keeps
    the suite's time; bisection has three to find instead of one)."""
    organizer, _, event = organizer_with_event(client)
    hostile = [hostile_member(client, kind) for kind in KINDS]
    members = sign_ups(client, BATCH - len(hostile))
    one_batch_of(monkeypatch, BATCH)

    ids = claim_all(organizer, event, [*members, *(member for member, _ in hostile)])
    claims, hostile_claims = ids[:len(members)], ids[len(members):]
    confirmed = [settled(m, c) for m, c in zip(members, claims)]
    failed = [settled(member, c) for (member, _), c in zip(hostile, hostile_claims)]

    assert {c["status"] for c in confirmed} == {"confirmed"}
    assert len({c["tx_hash"] for c in confirmed}) == 1  # together, in one transaction
    for kind, (_, reason), claim in zip(KINDS, hostile, failed):
        assert claim["status"] == "failed" and reason in claim["failure"], (kind, claim)
    assert attempts_of(client, claims) == [0] * len(claims)
    holders = [m.me()["wallet_address"] for m in members]
    assert list(suite.badges.balanceOfBatch(holders, [event["token_id"]] * len(holders))) == [1] * len(holders)
    assert [suite.badges.balanceOf(m.address, event["token_id"]) for m, _ in hostile] == [0] * len(KINDS)
    assert suite.badges.eventInfo(event["token_id"])[3] == len(members)  # issued: nothing twice


@pytest.mark.parametrize("kind", ["refuses", "burns gas", "eip-7702"])
def test_a_hostile_address_claiming_again_is_refused_with_409(client, suite, kind):
    organizer, _, event = organizer_with_event(client)
    hostile, _ = hostile_member(client, kind)
    assert settled(hostile, claim_once(organizer, event, hostile).json()["id"])["status"] == "failed"

    again = claim_once(organizer, event, hostile)
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "recipient_refuses_badges" and again.json()["address"] == hostile.address


def test_an_eip7702_account_may_claim_again_once_its_code_changes(client, suite):
    organizer, _, event = organizer_with_event(client)
    hostile, _ = hostile_member(client, "eip-7702")
    assert settled(hostile, claim_once(organizer, event, hostile).json()["id"])["status"] == "failed"
    assert claim_once(organizer, event, hostile).status_code == 409

    accepting = OwnerSignedWallet.deploy(Account.create().address, {"from": accounts[0]})  # an ERC1155Holder
    delegate(hostile.eoa, accepting.address)
    again = claim_once(organizer, event, hostile)
    assert again.status_code == 202, again.text
    assert wait_confirmed(hostile, again.json()["id"])["status"] == "confirmed"
    assert suite.badges.balanceOf(hostile.address, event["token_id"]) == 1


# ---------------------------------------------------------------------------------------------------- on chain


@pytest.mark.reverts_on_purpose
def test_a_hook_that_refuses_only_in_the_block_costs_the_others_no_attempt(client, suite, monkeypatch):
    """The hook accepts in the relayer's run, and a transaction first in the block flips it: the batch reverts on
    chain. Its claims go back to the queue, the flipped one is found by runs in the node and fails with its reason,
    and the other 99 are confirmed together by the next transaction, without an attempt counted."""
    organizer, _, event = organizer_with_event(client)
    wallet, sign = contract_wallet(ACCEPT)
    hostile = WalletMember(client, wallet.address, sign)
    members = sign_ups(client, BATCH - 1)
    one_batch_of(monkeypatch, BATCH)

    with mining_paused():
        *claims, hostile_claim = claim_all(organizer, event, [*members, hostile])
        (issue,) = sent_by_relayer(client, "issue")
        flip = send_first(accounts[0].address, wallet.address, wallet.setMode.encode_input(REFUSE))
        mine()
    monkeypatch.setattr(timing, "BATCH_WINDOW_S", 0.5)  # the 99 left are a batch at once

    assert web3.eth.get_transaction_receipt(flip)["status"] == 1
    assert web3.eth.get_transaction_receipt(issue.tx_hash)["status"] == 0
    failed = settled(hostile, hostile_claim)
    confirmed = [settled(m, c) for m, c in zip(members, claims)]
    assert failed["status"] == "failed" and NO_BADGES_WANTED in failed["failure"], failed
    assert {c["status"] for c in confirmed} == {"confirmed"}
    assert len({c["tx_hash"] for c in confirmed}) == 1 and confirmed[0]["tx_hash"] != issue.tx_hash
    assert attempts_of(client, claims) == [0] * len(claims)
    assert suite.badges.eventInfo(event["token_id"])[3] == BATCH - 1


@pytest.mark.reverts_on_purpose
def test_a_hook_that_changes_its_mind_back_after_the_block_costs_only_its_own_claim_an_attempt(client, suite,
                                                                                              monkeypatch):
    """The hook refuses in the block (the batch reverts) and accepts again before the relayer looks: runs in the node
    cannot tell who refused. The own wallet's claim uses an attempt and goes alone, the custodial members' claims use
    none; in the end every badge is issued once."""
    organizer, _, event = organizer_with_event(client)
    wallet, sign = contract_wallet(ACCEPT)
    hostile = WalletMember(client, wallet.address, sign)
    members = sign_ups(client, 9)
    one_batch_of(monkeypatch, 10)
    relayer = client.app.state.services.relayer

    with mining_paused():
        *claims, hostile_claim = claim_all(organizer, event, [*members, hostile])
        (issue,) = sent_by_relayer(client, "issue")
        relayer._follow_broadcast = lambda: None  # the relayer settles nothing until the hook has changed back
        time.sleep(1)  # a settling step already under way ends first
        send_first(accounts[0].address, wallet.address, wallet.setMode.encode_input(REFUSE))
        mine()
    try:
        wallet.setMode(ACCEPT, {"from": accounts[0]})
    finally:
        del relayer._follow_broadcast
    monkeypatch.setattr(timing, "BATCH_WINDOW_S", 0.5)

    assert web3.eth.get_transaction_receipt(issue.tx_hash)["status"] == 0
    assert settled(hostile, hostile_claim)["status"] == "confirmed"
    assert {settled(m, c)["status"] for m, c in zip(members, claims)} == {"confirmed"}
    assert attempts_of(client, claims) == [0] * len(claims) and attempts_of(client, [hostile_claim]) == [1]
    assert suite.badges.eventInfo(event["token_id"])[3] == 10


# ---------------------------------------------------------------------------------------------------- migrations


def test_a_move_to_a_refusing_wallet_fails_with_its_reason_and_is_refused_next_time(client, suite):
    organizer, _, event = organizer_with_event(client)
    member = Api(client)
    wait_confirmed(member, claim_once(organizer, event, member).json()["id"])
    owner = Account.create()
    wallet = HostileReceiver.deploy(owner.address, REFUSE, {"from": accounts[0]})

    def move():
        message = message_for(client, wallet.address, "wallet_export")
        return member.post("/me/wallet/export", {"password": member.password, "message": message,
                                                 "signature": contract_wallet_signature(owner, message)})

    assert move().status_code == 202
    export = wait_for(lambda: (e := member.get("/me/wallet/export").json())["status"] in ("done", "failed") and e,
                      what="export settled")
    assert export["status"] == "failed" and NO_BADGES_WANTED in export["failure"], export
    again = move()
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "recipient_refuses_badges"
    with client.app.state.session_factory() as session:  # the member still holds everything where it was
        assert session.scalar(select(Claim.status)) == ClaimStatus.confirmed
    assert suite.badges.balanceOf(member.me()["wallet_address"], event["token_id"]) == 1
