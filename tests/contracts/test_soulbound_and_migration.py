"""Badges and points never move, except by the holder's migration, which moves everything and leaves nothing."""

from __future__ import annotations

import brownie
import pytest
from brownie import ZERO_ADDRESS, MigratingReceiver, ParticipationPoints, accounts, chain

from tests.contracts.conftest import DAY, POINTS_PER_BADGE, now
from tools.devstack.eip712 import domain_of, malleable, sign_typed
from tests.helpers.reverts import custom_error

MIGRATION_TYPES = [("from", "address"), ("to", "address"), ("nonce", "uint256"), ("deadline", "uint256")]
ERC1155_ID = "0xd9b67a26"
ERC1155_METADATA_ID = "0x0e89341c"
ERC5633_ID = "0x911ec470"
ERC165_ID = "0x01ffc9a7"


def consent(badges, holder, to, deadline, signer=None, **domain_overrides) -> bytes:
    message = {"from": str(holder), "to": str(to), "nonce": badges.nonces(holder), "deadline": deadline}
    key = (signer or holder).private_key
    return sign_typed(key, domain_of(badges, **domain_overrides), "Migration", MIGRATION_TYPES, message)


@pytest.fixture
def holder_with_badges(badges, org, issuer, members):
    """members[0] holds the badges of three events (10 + 20 + 30 points)."""
    t = now()
    events = [
        badges.createEvent(org, "", pts, t - 60, t + DAY, 0, {"from": issuer}).return_value for pts in (10, 20, 30)
    ]
    for event in events:
        badges.issue(event, [members[0]], {"from": issuer})
    return members[0], events


# ------------------------------------------------------------------ soulbound


def test_safe_transfer_from_reverts(badges, holder_with_badges, members):
    holder, events = holder_with_badges
    with brownie.reverts(revert_pattern=custom_error("BadgeIsSoulbound")):
        badges.safeTransferFrom(holder, members[1], events[0], 1, b"", {"from": holder})


def test_safe_batch_transfer_from_reverts(badges, holder_with_badges, members):
    holder, events = holder_with_badges
    with brownie.reverts(revert_pattern=custom_error("BadgeIsSoulbound")):
        badges.safeBatchTransferFrom(holder, members[1], events, [1, 1, 1], b"", {"from": holder})


def test_approvals_are_refused(badges, holder_with_badges, members):
    holder, _ = holder_with_badges
    with brownie.reverts(revert_pattern=custom_error("BadgeIsSoulbound")):
        badges.setApprovalForAll(members[1], True, {"from": holder})
    assert badges.isApprovedForAll(holder, members[1]) is False


def test_points_cannot_be_transferred_or_approved(points, holder_with_badges, members):
    holder, _ = holder_with_badges
    with brownie.reverts(revert_pattern=custom_error("PointsNotTransferable")):
        points.transfer(members[1], 1, {"from": holder})
    with brownie.reverts(revert_pattern=custom_error("PointsNotTransferable")):
        points.approve(members[1], 1, {"from": holder})
    with brownie.reverts(revert_pattern=custom_error("PointsNotTransferable")):
        points.transferFrom(holder, members[1], 1, {"from": members[1]})
    assert points.allowance(holder, members[1]) == 0


def test_erc5633_says_every_event_badge_is_soulbound(badges, holder_with_badges):
    _, events = holder_with_badges
    assert all(badges.isSoulbound(event) for event in events)
    assert badges.isSoulbound(999) is False


def test_erc165_advertises_erc1155_metadata_and_erc5633(badges):
    for interface in (ERC1155_ID, ERC1155_METADATA_ID, ERC5633_ID, ERC165_ID):
        assert badges.supportsInterface(interface), interface
    assert badges.supportsInterface("0xffffffff") is False


def test_only_the_badge_contract_mints_burns_and_migrates_points(points, members, outsider):
    for call in (
        lambda: points.mintBatch([members[0]], 5, {"from": outsider}),
        lambda: points.burn(members[0], 5, {"from": outsider}),
        lambda: points.migrate(members[0], members[1], {"from": outsider}),
    ):
        with brownie.reverts(revert_pattern=custom_error("OnlyBadgeContract", outsider)):
            call()


def test_erc20_metadata(points):
    assert points.name() == "Kyoso Participation Points"
    assert points.symbol() == "KYOSO"
    assert points.decimals() == 0


# ------------------------------------------------------------------ migration


def test_migration_with_the_holders_signature_moves_everything(badges, points, holder_with_badges, outsider):
    holder, events = holder_with_badges
    own_wallet = accounts.add()
    deadline = now() + 3600
    tx = badges.migrateWithSignature(holder, own_wallet, deadline, consent(badges, holder, own_wallet, deadline),
                                     {"from": outsider})
    batch = tx.events["TransferBatch"]
    assert (batch["operator"], batch["from"], batch["to"]) == (outsider, holder, own_wallet)
    assert [int(i) for i in batch["ids"]] == events and [int(v) for v in batch["values"]] == [1, 1, 1]
    assert dict(tx.events["BadgesMigrated"]) == {"from": holder, "to": own_wallet, "badges": 3}
    assert dict(tx.events["PointsMigrated"]) == {"from": holder, "to": own_wallet, "amount": 60}
    assert [badges.balanceOf(own_wallet, e) for e in events] == [1, 1, 1]
    assert [badges.balanceOf(holder, e) for e in events] == [0, 0, 0]
    assert points.balanceOf(own_wallet) == 60 and points.getVotes(own_wallet) == 60
    assert points.balanceOf(holder) == 0 and points.getVotes(holder) == 0
    assert list(badges.badgesOf(holder)) == []


def test_migration_signature_cannot_be_replayed(badges, holder_with_badges, outsider):
    holder, _ = holder_with_badges
    own_wallet = accounts.add()
    deadline = now() + 3600
    signature = consent(badges, holder, own_wallet, deadline)
    badges.migrateWithSignature(holder, own_wallet, deadline, signature, {"from": outsider})
    with brownie.reverts(revert_pattern="InvalidMigrationSigner: .*"):
        badges.migrateWithSignature(holder, own_wallet, deadline, signature, {"from": outsider})


def test_migration_needs_the_holders_signature(badges, holder_with_badges, members, outsider):
    holder, _ = holder_with_badges
    deadline = now() + 3600
    forged = consent(badges, holder, outsider, deadline, signer=members[1])  # signed by someone else
    with brownie.reverts(revert_pattern=custom_error("InvalidMigrationSigner", members[1], holder)):
        badges.migrateWithSignature(holder, outsider, deadline, forged, {"from": outsider})


@pytest.mark.parametrize("domain", [{"chainId": 5}, {"verifyingContract": "0x" + "22" * 20}])
def test_migration_signed_for_another_chain_or_contract_is_refused(badges, holder_with_badges, outsider, domain):
    holder, _ = holder_with_badges
    deadline = now() + 3600
    signature = consent(badges, holder, outsider, deadline, **domain)
    with brownie.reverts(revert_pattern="InvalidMigrationSigner: .*"):
        badges.migrateWithSignature(holder, outsider, deadline, signature, {"from": outsider})


def test_expired_or_malleable_migration_is_refused(badges, holder_with_badges, outsider):
    holder, _ = holder_with_badges
    deadline = now() + 60
    signature = consent(badges, holder, outsider, deadline)
    with brownie.reverts(revert_pattern=custom_error("InvalidSignature")):
        badges.migrateWithSignature(holder, outsider, deadline, malleable(signature), {"from": outsider})
    chain.sleep(120)
    chain.mine()
    with brownie.reverts(revert_pattern=custom_error("SignatureExpired", deadline)):
        badges.migrateWithSignature(holder, outsider, deadline, signature, {"from": outsider})


def test_holder_migrates_by_itself(badges, points, holder_with_badges, members):
    holder, events = holder_with_badges
    badges.migrate(members[1], {"from": holder})
    assert list(badges.badgesOf(members[1])) == events
    assert points.getVotes(members[1]) == 60


def test_migration_to_self_or_zero_is_refused(badges, holder_with_badges):
    holder, _ = holder_with_badges
    with brownie.reverts(revert_pattern=custom_error("InvalidMigration", holder, holder)):
        badges.migrate(holder, {"from": holder})
    with brownie.reverts(revert_pattern=custom_error("InvalidMigration", holder, ZERO_ADDRESS)):
        badges.migrate(ZERO_ADDRESS, {"from": holder})


def test_migration_merges_without_duplicating_a_badge_or_its_points(badges, points, holder_with_badges, issuer,
                                                                   members):
    holder, events = holder_with_badges
    badges.issue(events[1], [members[1]], {"from": issuer})  # the destination already has the 20-point badge
    tx = badges.migrate(members[1], {"from": holder})
    assert dict(tx.events["BadgesMigrated"]) == {"from": holder, "to": members[1], "badges": 2}
    assert list(badges.badgesOf(members[1])) == events
    assert points.balanceOf(members[1]) == 60 and points.getVotes(members[1]) == 60
    assert points.totalSupply() == 60
    assert badges.eventInfo(events[1])[3] == 1


def test_migration_keeps_delegated_votes_where_the_delegator_chose(badges, points, holder_with_badges, members):
    holder, _ = holder_with_badges
    points.delegate(members[2], {"from": holder})
    assert points.getVotes(members[2]) == 60
    badges.migrate(members[1], {"from": holder})
    # the new address decides anew: its points vote for itself until it delegates
    assert points.getVotes(members[2]) == 0
    assert points.getVotes(members[1]) == 60
    assert points.delegates(holder) == holder


def test_migration_to_a_contract_that_refuses_erc1155_reverts(badges, holder_with_badges, points):
    holder, _ = holder_with_badges
    with brownie.reverts(revert_pattern="ERC1155InvalidReceiver: .*"):
        badges.migrate(points, {"from": holder})  # the points ledger is not an ERC-1155 receiver
    assert POINTS_PER_BADGE == 10


def test_voucher_cannot_reissue_a_badge_after_its_holder_migrated(badges, points, open_event, issuer, members,
                                                                  outsider):
    from tests.contracts.test_badges_issuance import voucher

    deadline = now() + 3600
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    badges.claim(members[0], open_event, deadline, signature, {"from": outsider})
    badges.migrate(members[1], {"from": members[0]})
    with brownie.reverts(revert_pattern=custom_error("BadgeWasRevoked", open_event, members[0])):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})
    assert points.totalSupply() == POINTS_PER_BADGE


def test_receiver_hook_runs_after_the_points_are_credited(badges, points, open_event, issuer, deployer):
    wallet = MigratingReceiver.deploy(points, {"from": deployer})
    badges.issue(open_event, [wallet], {"from": issuer})
    assert wallet.pointsSeenInHook() == POINTS_PER_BADGE


def test_migrating_from_inside_the_receiver_hook_keeps_badge_and_points_together(badges, points, open_event, issuer,
                                                                                 deployer, members):
    wallet = MigratingReceiver.deploy(points, {"from": deployer})
    wallet.setMigrateTo(members[2], {"from": deployer})
    badges.issue(open_event, [wallet, members[3]], {"from": issuer})
    assert badges.balanceOf(members[2], open_event) == 1 and points.balanceOf(members[2]) == POINTS_PER_BADGE
    assert badges.balanceOf(wallet, open_event) == 0 and points.balanceOf(wallet) == 0
    assert points.totalSupply() == 2 * POINTS_PER_BADGE


def test_points_ledger_refuses_a_zero_minter(deployer):
    with brownie.reverts(revert_pattern=custom_error("InvalidMinter")):
        ParticipationPoints.deploy("P", "P", ZERO_ADDRESS, deployer, {"from": deployer})


def test_snapshot_registrar_cannot_be_zero(deployer):
    ledger = ParticipationPoints.deploy("P", "P", deployer, deployer, {"from": deployer})
    with brownie.reverts(revert_pattern=custom_error("InvalidSnapshotRegistrar")):
        ledger.setSnapshotRegistrar(ZERO_ADDRESS, {"from": deployer})
