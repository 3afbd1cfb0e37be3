"""Receiver hooks are given at most RECEIVER_HOOK_GAS: a contract recipient (a member's own wallet, or an account with
EIP-7702 delegated code) that burns all the gas it gets cannot make a batch run out of gas, and the issue, voucher
claim or migration reverts as OpenZeppelin's ERC1155Utils does: ERC1155InvalidReceiver, or the hook's own reason.
How much a hook got is read from the node's call trace of the transaction (debug_traceTransaction, callTracer)."""

from __future__ import annotations

import brownie
import pytest
from brownie import HostileReceiver, MigratingReceiver, accounts, history, web3

from backend.relayer import timing
from tests.contracts.conftest import POINTS_PER_BADGE, now
from tests.contracts.test_badges_issuance import voucher
from tests.contracts.test_soulbound_and_migration import consent
from tests.helpers.reverts import custom_error

REFUSE, BURN_GAS, ACCEPT, WRONG_ANSWER, SPEND_AND_ACCEPT = range(5)
ON_RECEIVED = "0xf23a6e61"  # onERC1155Received(address,address,uint256,uint256,bytes)
ON_BATCH_RECEIVED = "0xbc197c81"  # onERC1155BatchReceived(address,address,uint256[],uint256[],bytes)
BIG_LIMIT = 10_000_000  # far more than any hook may get


@pytest.fixture(scope="module")
def hook_gas(badges):
    return badges.RECEIVER_HOOK_GAS()


def receiver(mode: int):
    return HostileReceiver.deploy(accounts[5], mode, {"from": accounts[5]})


def hook_frames(tx_hash: str, to: str) -> list[dict]:
    """Every call the transaction made to `to`, from the node's call trace."""
    response = web3.provider.make_request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    assert "error" not in response, response
    frames, pending = [], [response["result"]]
    while pending:
        frame = pending.pop()
        if frame.get("to", "").lower() == to.lower():
            frames.append(frame)
        pending.extend(frame.get("calls", []))
    return frames


def logged(tx, name: str) -> list[dict]:
    """The transaction's events called `name`, each as a dict (arrays as lists)."""
    return [{k: list(v) if isinstance(v, (list, tuple)) else v for k, v in dict(e).items()}
            for e in tx.events[name]] if name in tx.events else []


def reverted_tx():
    """The transaction that brownie.reverts just saw revert (sent under the cap after its estimate failed)."""
    return history[-1]


# ------------------------------------------------------------------ issue


def test_a_hook_that_burns_everything_is_given_exactly_RECEIVER_HOOK_GAS(badges, open_event, issuer, hook_gas):
    burner = receiver(BURN_GAS)
    with brownie.reverts(revert_pattern=custom_error("ERC1155InvalidReceiver", burner.address)):
        badges.issue(open_event, [burner], {"from": issuer, "gas_limit": BIG_LIMIT})
    (frame,) = hook_frames(reverted_tx().txid, burner.address)
    assert frame["input"][:10] == ON_RECEIVED
    assert (int(frame["gas"], 16), int(frame["gasUsed"], 16)) == (hook_gas, hook_gas)


def test_a_gas_burning_recipient_reverts_a_batch_of_100_instead_of_running_it_out_of_gas(badges, open_event, issuer,
                                                                                       hook_gas):
    burner = receiver(BURN_GAS)
    recipients = [accounts.add().address for _ in range(99)] + [burner.address]
    with brownie.reverts(revert_pattern=custom_error("ERC1155InvalidReceiver", burner.address)):
        badges.issue(open_event, recipients, {"from": issuer, "gas_limit": BIG_LIMIT})
    # the 99 others' badges and points, the hook's bound and the revert: a small part of the limit
    assert reverted_tx().gas_used < 99 * 70_000 + hook_gas + 100_000 < BIG_LIMIT * 0.95


def test_a_well_behaved_hook_gets_RECEIVER_HOOK_GAS_and_accepts(badges, points, open_event, issuer, hook_gas):
    wallet = receiver(ACCEPT)
    tx = badges.issue(open_event, [wallet], {"from": issuer, "gas_limit": BIG_LIMIT})  # not an estimate's bare need
    assert logged(tx, "TransferSingle") == [{"operator": issuer.address, "from": brownie.ZERO_ADDRESS,
                                             "to": wallet.address, "id": open_event, "value": 1}]
    assert badges.balanceOf(wallet, open_event) == 1 and points.balanceOf(wallet) == POINTS_PER_BADGE
    assert hook_gas - 1_000 < wallet.gasSeenInHook() <= hook_gas


def test_a_wallet_that_migrates_its_new_badge_onward_from_the_hook_fits_in_RECEIVER_HOOK_GAS(badges, points, open_event,
                                                                                          issuer, deployer, members,
                                                                                          hook_gas):
    """contracts/testing/MigratingReceiver.sol: the heaviest well-behaved hook the project knows (a migration inside
    it: new slots for the badge, the revoked bitmap and the points)."""
    wallet = MigratingReceiver.deploy(points, {"from": deployer})
    wallet.setMigrateTo(members[2], {"from": deployer})
    tx = badges.issue(open_event, [wallet], {"from": issuer, "gas_limit": BIG_LIMIT})
    (frame,) = [f for f in hook_frames(tx.txid, wallet.address) if f["input"][:10] == ON_RECEIVED]
    assert int(frame["gas"], 16) == hook_gas and int(frame["gasUsed"], 16) < hook_gas
    assert badges.balanceOf(members[2], open_event) == 1 and points.balanceOf(members[2]) == POINTS_PER_BADGE


def test_the_relayer_counts_the_contracts_RECEIVER_HOOK_GAS(badges):
    assert timing.RECEIVER_HOOK_GAS == badges.RECEIVER_HOOK_GAS()


def test_the_relayers_bound_holds_ten_wallets_whose_hooks_spend_nearly_all_they_are_given(badges, open_event, issuer,
                                                                                         hook_gas):
    """The most an honest issue can cost with hooks: every recipient a new contract wallet whose hook accepts after
    spending all but what it needs to return (backend/relayer/timing.py issue_gas)."""
    wallets = [receiver(SPEND_AND_ACCEPT) for _ in range(10)]
    bound = timing.issue_gas(10, hooks=10)
    tx = badges.issue(open_event, wallets, {"from": issuer, "gas_limit": bound})
    assert tx.status == 1 and len(tx.events["TransferSingle"]) == 10
    assert hook_gas * 10 < tx.gas_used <= bound


def test_a_refusing_hook_reverts_the_issue_with_its_own_reason(badges, open_event, issuer, members):
    refusing = receiver(REFUSE)
    with brownie.reverts(revert_pattern=custom_error("NoBadgesWanted", open_event)):
        badges.issue(open_event, [members[0], refusing], {"from": issuer})
    assert badges.balanceOf(members[0], open_event) == 0


def test_a_hook_that_answers_a_wrong_value_is_an_invalid_receiver(badges, open_event, issuer):
    wrong = receiver(WRONG_ANSWER)
    with brownie.reverts(revert_pattern=custom_error("ERC1155InvalidReceiver", wrong.address)):
        badges.issue(open_event, [wrong], {"from": issuer})


def test_a_contract_without_hooks_is_an_invalid_receiver(badges, points, open_event, issuer):
    with brownie.reverts(revert_pattern=custom_error("ERC1155InvalidReceiver", points.address)):
        badges.issue(open_event, [points], {"from": issuer})


# ------------------------------------------------------------------ voucher claim


def test_a_voucher_claim_gives_a_gas_burning_hook_exactly_RECEIVER_HOOK_GAS(badges, open_event, issuer, outsider,
                                                                          hook_gas):
    burner = receiver(BURN_GAS)
    deadline = now() + 3600
    signature = voucher(badges, issuer, burner, open_event, deadline)
    with brownie.reverts(revert_pattern=custom_error("ERC1155InvalidReceiver", burner.address)):
        badges.claim(burner, open_event, deadline, signature, {"from": outsider, "gas_limit": BIG_LIMIT})
    (frame,) = hook_frames(reverted_tx().txid, burner.address)
    assert (int(frame["gas"], 16), int(frame["gasUsed"], 16)) == (hook_gas, hook_gas)


def test_a_voucher_claim_to_a_well_behaved_wallet_is_issued(badges, open_event, issuer, outsider):
    wallet = receiver(ACCEPT)
    deadline = now() + 3600
    tx = badges.claim(wallet, open_event, deadline, voucher(badges, issuer, wallet, open_event, deadline),
                      {"from": outsider})
    assert logged(tx, "TransferSingle") == [{"operator": outsider.address, "from": brownie.ZERO_ADDRESS,
                                             "to": wallet.address, "id": open_event, "value": 1}]


# ------------------------------------------------------------------ migration


def test_a_migration_gives_a_gas_burning_wallet_exactly_RECEIVER_HOOK_GAS(badges, open_event, issuer, members,
                                                                        outsider, hook_gas):
    badges.issue(open_event, [members[0]], {"from": issuer})
    burner = receiver(BURN_GAS)
    deadline = now() + 3600
    signature = consent(badges, members[0], burner, deadline)
    with brownie.reverts(revert_pattern=custom_error("ERC1155InvalidReceiver", burner.address)):
        badges.migrateWithSignature(members[0], burner, deadline, signature,
                                    {"from": outsider, "gas_limit": BIG_LIMIT})
    (frame,) = hook_frames(reverted_tx().txid, burner.address)
    assert frame["input"][:10] == ON_BATCH_RECEIVED
    assert (int(frame["gas"], 16), int(frame["gasUsed"], 16)) == (hook_gas, hook_gas)


def test_a_migration_to_a_refusing_wallet_reverts_with_its_reason(badges, open_event, issuer, members, outsider):
    badges.issue(open_event, [members[0]], {"from": issuer})
    refusing = receiver(REFUSE)
    deadline = now() + 3600
    with brownie.reverts(revert_pattern=custom_error("NoBadgesWanted", open_event)):
        badges.migrateWithSignature(members[0], refusing, deadline, consent(badges, members[0], refusing, deadline),
                                    {"from": outsider})
    assert badges.balanceOf(members[0], open_event) == 1


def test_a_migration_to_a_well_behaved_wallet_moves_the_badges(badges, open_event, issuer, members, outsider):
    badges.issue(open_event, [members[0]], {"from": issuer})
    wallet = receiver(ACCEPT)
    deadline = now() + 3600
    tx = badges.migrateWithSignature(members[0], wallet, deadline, consent(badges, members[0], wallet, deadline),
                                     {"from": outsider})
    assert logged(tx, "TransferBatch") == [{"operator": outsider.address, "from": members[0].address,
                                            "to": wallet.address, "ids": [open_event], "values": [1]}]
    assert logged(tx, "BadgesMigrated") == [{"from": members[0].address, "to": wallet.address, "badges": 1}]
