"""Voting power: held without a delegate transaction, delegable, and exact at proposal snapshots."""

from __future__ import annotations

import brownie
import pytest
from brownie import ParticipationPoints, accounts, chain

from tests.contracts.conftest import POINTS_PER_BADGE, now
from tools.devstack.eip712 import domain_of, malleable, sign_typed
from tests.helpers.reverts import custom_error

DELEGATION_TYPES = [("delegatee", "address"), ("nonce", "uint256"), ("expiry", "uint256")]


def delegation(points, signer, delegatee, expiry, nonce=None, **domain_overrides) -> tuple:
    message = {"delegatee": str(delegatee), "nonce": points.nonces(signer) if nonce is None else nonce,
               "expiry": expiry}
    sig = sign_typed(signer.private_key, domain_of(points, **domain_overrides), "Delegation", DELEGATION_TYPES,
                     message)
    return message["nonce"], expiry, sig[64], sig[:32], sig[32:64]


@pytest.fixture(scope="module")
def ledger(deployer):
    """A points ledger driven directly by test accounts: accounts[5] is its 'badge contract', accounts[6] its
    'governor', so that history can be exercised step by step."""
    points = ParticipationPoints.deploy("Test Points", "TP", accounts[5], deployer, {"from": deployer})
    points.setSnapshotRegistrar(accounts[6], {"from": deployer})
    return points


def mint(ledger, holder, amount):
    return ledger.mintBatch([holder], amount, {"from": accounts[5]})


def snapshot_now(ledger) -> int:
    """Registers the current time as a proposal snapshot (as the governor does when a proposal is made)."""
    chain.sleep(1)
    chain.mine()
    snap = now()
    ledger.registerSnapshot(snap, {"from": accounts[6]})
    return snap


# ------------------------------------------------------------------ delegation


def test_clock_is_the_block_timestamp(points):
    assert points.CLOCK_MODE() == "mode=timestamp"
    assert points.clock() == now()


def test_delegate_moves_voting_power(badges, points, open_event, issuer, members):
    badges.issue(open_event, [members[0]], {"from": issuer})
    tx = points.delegate(members[1], {"from": members[0]})
    assert dict(tx.events["DelegateChanged"]) == {
        "delegator": members[0], "fromDelegate": members[0], "toDelegate": members[1],
    }
    assert [dict(e) for e in tx.events["DelegateVotesChanged"]] == [
        {"delegate": members[0], "previousVotes": POINTS_PER_BADGE, "newVotes": 0},
        {"delegate": members[1], "previousVotes": 0, "newVotes": POINTS_PER_BADGE},
    ]
    assert points.delegates(members[0]) == members[1]
    assert points.getVotes(members[0]) == 0 and points.getVotes(members[1]) == POINTS_PER_BADGE


def test_points_received_while_delegated_go_to_the_delegate(badges, points, org, open_event, issuer, members):
    points.delegate(members[1], {"from": members[0]})
    badges.issue(open_event, [members[0]], {"from": issuer})
    assert points.getVotes(members[1]) == POINTS_PER_BADGE
    assert points.getVotes(members[0]) == 0


@pytest.mark.parametrize("back_to", ["self", "zero"])
def test_undelegating_returns_voting_power(badges, points, open_event, issuer, members, back_to):
    badges.issue(open_event, [members[0]], {"from": issuer})
    points.delegate(members[1], {"from": members[0]})
    target = members[0] if back_to == "self" else "0x" + "00" * 20
    points.delegate(target, {"from": members[0]})
    assert points.delegates(members[0]) == members[0]
    assert points.getVotes(members[0]) == POINTS_PER_BADGE and points.getVotes(members[1]) == 0


def test_delegate_by_sig_is_relayed_by_anyone(badges, points, open_event, issuer, members, outsider):
    badges.issue(open_event, [members[0]], {"from": issuer})
    nonce, expiry, v, r, s = delegation(points, members[0], members[2], now() + 3600)
    points.delegateBySig(members[2], nonce, expiry, v, r, s, {"from": outsider})
    assert points.delegates(members[0]) == members[2]
    assert points.getVotes(members[2]) == POINTS_PER_BADGE
    assert points.nonces(members[0]) == 1


def test_delegate_by_sig_cannot_be_replayed(points, members, outsider):
    args = delegation(points, members[0], members[2], now() + 3600)
    points.delegateBySig(members[2], *args, {"from": outsider})
    with brownie.reverts(revert_pattern=custom_error("InvalidAccountNonce", members[0], 1)):
        points.delegateBySig(members[2], *args, {"from": outsider})


def test_expired_delegation_is_refused(points, members, outsider):
    expiry = now() + 10
    args = delegation(points, members[0], members[2], expiry)
    chain.sleep(30)
    chain.mine()
    with brownie.reverts(revert_pattern=custom_error("VotesExpiredSignature", expiry)):
        points.delegateBySig(members[2], *args, {"from": outsider})


def test_malleable_delegation_signature_is_refused(points, members, outsider):
    nonce, expiry, v, r, s = delegation(points, members[0], members[2], now() + 3600)
    high = malleable(bytes(r) + bytes(s) + bytes([v]))
    with brownie.reverts(revert_pattern="ECDSAInvalidSignatureS: .*"):
        points.delegateBySig(members[2], nonce, expiry, high[64], high[:32], high[32:64], {"from": outsider})


def test_delegation_signed_for_another_chain_does_not_move_the_signers_votes(badges, points, open_event, issuer,
                                                                            members, outsider):
    badges.issue(open_event, [members[0]], {"from": issuer})
    args = delegation(points, members[0], members[2], now() + 3600, chainId=1)
    points.delegateBySig(members[2], *args, {"from": outsider})  # recovers an unrelated address with nothing
    assert points.delegates(members[0]) == members[0]
    assert points.getVotes(members[0]) == POINTS_PER_BADGE and points.getVotes(members[2]) == 0


# ------------------------------------------------------------------ history at snapshots


def test_only_the_registrar_registers_snapshots(ledger, outsider):
    with brownie.reverts(revert_pattern=custom_error("OnlySnapshotRegistrar", outsider)):
        ledger.registerSnapshot(123, {"from": outsider})


def test_points_after_a_snapshot_give_no_weight_at_it(ledger, members):
    mint(ledger, members[0], 10)
    chain.sleep(5)
    snap = snapshot_now(ledger)
    chain.sleep(5)
    mint(ledger, members[0], 90)
    chain.sleep(5)
    chain.mine()
    assert ledger.getPastVotes(members[0], snap) == 10
    assert ledger.getPastTotalSupply(snap) == 10
    assert ledger.getVotes(members[0]) == 100


def test_delegation_after_a_snapshot_keeps_the_past_exact(ledger, members):
    mint(ledger, members[0], 40)
    mint(ledger, members[1], 5)
    chain.sleep(5)
    snap = snapshot_now(ledger)
    chain.sleep(5)
    ledger.delegate(members[1], {"from": members[0]})
    chain.sleep(5)
    chain.mine()
    assert ledger.getPastVotes(members[0], snap) == 40
    assert ledger.getPastVotes(members[1], snap) == 5
    assert ledger.getVotes(members[1]) == 45


def test_migration_after_a_snapshot_keeps_the_past_exact(ledger, members):
    mint(ledger, members[0], 30)
    chain.sleep(5)
    snap = snapshot_now(ledger)
    chain.sleep(5)
    ledger.migrate(members[0], members[3], {"from": accounts[5]})
    chain.sleep(5)
    chain.mine()
    assert ledger.getPastVotes(members[0], snap) == 30
    assert ledger.getPastVotes(members[3], snap) == 0
    assert ledger.getVotes(members[3]) == 30


def test_several_snapshots_each_stay_exact(ledger, members):
    values = []
    snaps = []
    for amount in (3, 4, 5):
        mint(ledger, members[0], amount)
        chain.sleep(5)
        snaps.append(snapshot_now(ledger))
        values.append(sum((3, 4, 5)[: len(snaps)]))
        chain.sleep(5)
    ledger.burn(members[0], 2, {"from": accounts[5]})
    chain.sleep(5)
    chain.mine()
    assert [ledger.getPastVotes(members[0], s) for s in snaps] == values
    assert [ledger.getPastTotalSupply(s) for s in snaps] == values
    assert ledger.getVotes(members[0]) == 10


def test_unregistered_past_timepoint_before_the_last_change_is_refused(ledger, members):
    mint(ledger, members[0], 10)
    chain.sleep(5)
    chain.mine()
    middle = now()
    chain.sleep(5)
    mint(ledger, members[0], 10)
    chain.sleep(5)
    chain.mine()
    with brownie.reverts(revert_pattern=custom_error("VotesNotRecorded", middle)):
        ledger.getPastVotes(members[0], middle)


def test_any_past_timepoint_since_the_last_change_is_answered(ledger, members):
    mint(ledger, members[0], 10)
    chain.sleep(5)
    chain.mine()
    t = now()
    chain.sleep(5)
    chain.mine()
    assert ledger.getPastVotes(members[0], t) == 10
    assert ledger.getPastVotes(members[2], t) == 0


def test_future_timepoint_is_refused(ledger, members):
    future = now() + 1000
    with brownie.reverts(revert_pattern="ERC5805FutureLookup: .*"):
        ledger.getPastVotes(members[0], future)
    with brownie.reverts(revert_pattern="ERC5805FutureLookup: .*"):
        ledger.getPastTotalSupply(future)


def test_only_the_owner_sets_the_snapshot_registrar(ledger, deployer, outsider):
    with brownie.reverts(revert_pattern="OwnableUnauthorizedAccount: .*"):
        ledger.setSnapshotRegistrar(outsider, {"from": outsider})
    tx = ledger.setSnapshotRegistrar(outsider, {"from": deployer})
    assert dict(tx.events["SnapshotRegistrarChanged"]) == {
        "previousRegistrar": accounts[6], "newRegistrar": outsider,
    }


def test_register_snapshot_emits_and_tracks_the_latest(ledger):
    tx = ledger.registerSnapshot(500, {"from": accounts[6]})
    assert dict(tx.events["SnapshotRegistered"]) == {"timepoint": 500}
    ledger.registerSnapshot(400, {"from": accounts[6]})
    assert ledger.latestSnapshot() == 500
    assert ledger.isSnapshot(400) and ledger.isSnapshot(500) and not ledger.isSnapshot(450)


def test_balance_beyond_96_bits_is_refused(ledger, members):
    mint(ledger, members[0], 2**96 - 1)
    with brownie.reverts(revert_pattern=custom_error("BalanceOverflow", members[0])):
        mint(ledger, members[0], 1)


def test_ledger_refuses_migration_to_self_or_zero(ledger, members):
    for target in (members[0], "0x" + "00" * 20):
        with brownie.reverts(revert_pattern=custom_error("InvalidMigration", members[0], target)):
            ledger.migrate(members[0], target, {"from": accounts[5]})
