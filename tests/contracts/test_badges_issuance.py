"""Issuing badges: batches by issuers, vouchers submitted by anyone, revocation; one badge per (event, holder)."""

from __future__ import annotations

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from tests.contracts.conftest import DAY, POINTS_PER_BADGE, now
from tools.devstack.eip712 import domain_of, malleable, sign_typed
from tests.helpers.reverts import custom_error

CLAIM_TYPES = [("recipient", "address"), ("eventId", "uint256"), ("deadline", "uint256")]


def voucher(badges, signer, recipient, event_id, deadline, **domain_overrides) -> bytes:
    domain = domain_of(badges, **domain_overrides)
    message = {"recipient": str(recipient), "eventId": event_id, "deadline": deadline}
    return sign_typed(signer.private_key, domain, "Claim", CLAIM_TYPES, message)


# ------------------------------------------------------------------ batch issuance


def test_issue_to_many_recipients_in_one_transaction(badges, points, open_event, issuer, members):
    recipients = [m.address for m in members]
    tx = badges.issue(open_event, recipients, {"from": issuer})
    assert [dict(e) for e in tx.events["TransferSingle"]] == [
        {"operator": issuer, "from": ZERO_ADDRESS, "to": r, "id": open_event, "value": 1} for r in recipients
    ]
    assert [dict(e) for e in tx.events["Transfer"]] == [
        {"from": ZERO_ADDRESS, "to": r, "value": POINTS_PER_BADGE} for r in recipients
    ]
    assert all(badges.balanceOf(r, open_event) == 1 for r in recipients)
    assert all(points.balanceOf(r) == POINTS_PER_BADGE for r in recipients)
    assert badges.eventInfo(open_event)[3] == len(recipients)


def test_issue_gives_voting_power_without_a_delegate_transaction(badges, points, open_event, issuer, members):
    tx = badges.issue(open_event, [members[0]], {"from": issuer})
    assert dict(tx.events["DelegateVotesChanged"]) == {
        "delegate": members[0], "previousVotes": 0, "newVotes": POINTS_PER_BADGE,
    }
    assert points.getVotes(members[0]) == POINTS_PER_BADGE
    assert points.delegates(members[0]) == members[0]


def test_second_badge_of_the_same_event_is_refused(badges, open_event, issuer, members):
    badges.issue(open_event, [members[0]], {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("BadgeAlreadyIssued", open_event, members[0])):
        badges.issue(open_event, [members[1], members[0]], {"from": issuer})


def test_duplicate_recipient_in_one_batch_is_refused(badges, open_event, issuer, members):
    with brownie.reverts(revert_pattern=custom_error("BadgeAlreadyIssued", open_event, members[0])):
        badges.issue(open_event, [members[0], members[0]], {"from": issuer})


def test_zero_address_recipient_is_refused(badges, open_event, issuer):
    with brownie.reverts(revert_pattern=custom_error("InvalidRecipient", ZERO_ADDRESS)):
        badges.issue(open_event, [ZERO_ADDRESS], {"from": issuer})


def test_non_issuer_cannot_issue(badges, open_event, org, outsider, members):
    with brownie.reverts(revert_pattern=custom_error("NotIssuer", org, outsider)):
        badges.issue(open_event, [members[0]], {"from": outsider})


def test_capacity_is_enforced(badges, org, issuer, members):
    t = now()
    event = badges.createEvent(org, "", 5, t - 1, t + DAY, 3, {"from": issuer}).return_value
    badges.issue(event, [members[0], members[1]], {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("EventCapacityReached", event, 3)):
        badges.issue(event, [members[2], members[3]], {"from": issuer})
    badges.issue(event, [members[2]], {"from": issuer})
    assert badges.eventInfo(event)[3] == 3


def test_issuing_before_the_claim_window_is_refused(badges, org, issuer, members):
    start = now() + DAY
    event = badges.createEvent(org, "", 5, start, start + DAY, 0, {"from": issuer}).return_value
    with brownie.reverts(revert_pattern=custom_error("ClaimWindowClosed", event, start, start + DAY)):
        badges.issue(event, [members[0]], {"from": issuer})


def test_issuing_after_the_claim_window_is_refused(badges, org, issuer, members):
    t = now()
    event = badges.createEvent(org, "", 5, t - 10, t + 100, 0, {"from": issuer}).return_value
    chain.sleep(200)
    chain.mine()
    with brownie.reverts(revert_pattern=custom_error("ClaimWindowClosed", event, t - 10, t + 100)):
        badges.issue(event, [members[0]], {"from": issuer})


def test_unknown_event_cannot_be_issued(badges, org, issuer, members):
    with brownie.reverts(revert_pattern=custom_error("UnknownEvent", 9)):
        badges.issue(9, [members[0]], {"from": issuer})


# ------------------------------------------------------------------ vouchers


def test_anyone_submits_a_voucher_signed_by_the_issuer(badges, points, open_event, issuer, members, outsider):
    deadline = now() + 3600
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    tx = badges.claim(members[0], open_event, deadline, signature, {"from": outsider})
    assert dict(tx.events["TransferSingle"]) == {
        "operator": outsider, "from": ZERO_ADDRESS, "to": members[0], "id": open_event, "value": 1,
    }
    assert badges.balanceOf(members[0], open_event) == 1
    assert points.getVotes(members[0]) == POINTS_PER_BADGE


def test_replayed_voucher_is_refused(badges, open_event, issuer, members, outsider):
    deadline = now() + 3600
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    badges.claim(members[0], open_event, deadline, signature, {"from": outsider})
    with brownie.reverts(revert_pattern=custom_error("BadgeAlreadyIssued", open_event, members[0])):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_expired_voucher_is_refused(badges, open_event, issuer, members, outsider):
    deadline = now() + 60
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    chain.sleep(120)
    chain.mine()
    with brownie.reverts(revert_pattern=custom_error("SignatureExpired", deadline)):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


@pytest.mark.parametrize("tampered", ["recipient", "eventId", "deadline"])
def test_tampered_voucher_is_refused(badges, org, open_event, issuer, members, outsider, tampered):
    t = now()
    other_event = badges.createEvent(org, "", 1, t - 1, t + DAY, 0, {"from": issuer}).return_value
    deadline = t + 3600
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    claim = {"recipient": members[0], "eventId": open_event, "deadline": deadline}
    claim[tampered] = {"recipient": members[1], "eventId": other_event, "deadline": deadline + 1}[tampered]
    with brownie.reverts(revert_pattern="InvalidVoucherSigner: .*"):
        badges.claim(claim["recipient"], claim["eventId"], claim["deadline"], signature, {"from": outsider})


@pytest.mark.parametrize("domain", [{"chainId": 1}, {"verifyingContract": "0x" + "11" * 20}])
def test_voucher_for_another_chain_or_contract_is_refused(badges, open_event, issuer, members, outsider, domain):
    deadline = now() + 3600
    signature = voucher(badges, issuer, members[0], open_event, deadline, **domain)
    with brownie.reverts(revert_pattern="InvalidVoucherSigner: .*"):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_voucher_signed_by_a_non_issuer_is_refused(badges, open_event, members, outsider):
    deadline = now() + 3600
    signature = voucher(badges, members[3], members[0], open_event, deadline)
    with brownie.reverts(revert_pattern=custom_error("InvalidVoucherSigner", members[3])):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_malleable_high_s_voucher_is_refused(badges, open_event, issuer, members, outsider):
    deadline = now() + 3600
    signature = malleable(voucher(badges, issuer, members[0], open_event, deadline))
    with brownie.reverts(revert_pattern=custom_error("InvalidSignature")):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_voucher_of_a_revoked_badge_cannot_bring_it_back(badges, open_event, issuer, members, outsider):
    deadline = now() + 3600
    signature = voucher(badges, issuer, members[0], open_event, deadline)
    badges.claim(members[0], open_event, deadline, signature, {"from": outsider})
    badges.revoke(open_event, members[0], "issued by mistake", {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("BadgeWasRevoked", open_event, members[0])):
        badges.claim(members[0], open_event, deadline, signature, {"from": outsider})


def test_voucher_respects_the_claim_window(badges, org, issuer, members, outsider):
    start = now() + DAY
    event = badges.createEvent(org, "", 5, start, start + DAY, 0, {"from": issuer}).return_value
    deadline = start + DAY
    signature = voucher(badges, issuer, members[0], event, deadline)
    with brownie.reverts(revert_pattern=custom_error("ClaimWindowClosed", event, start, start + DAY)):
        badges.claim(members[0], event, deadline, signature, {"from": outsider})


# ------------------------------------------------------------------ revocation


def test_issuer_revokes_a_badge_and_its_points(badges, points, open_event, issuer, members):
    badges.issue(open_event, [members[0], members[1]], {"from": issuer})
    tx = badges.revoke(open_event, members[0], "wrong person scanned", {"from": issuer})
    assert dict(tx.events["TransferSingle"]) == {
        "operator": issuer, "from": members[0], "to": ZERO_ADDRESS, "id": open_event, "value": 1,
    }
    assert dict(tx.events["BadgeRevoked"]) == {
        "eventId": open_event, "holder": members[0], "issuer": issuer, "reason": "wrong person scanned",
    }
    assert dict(tx.events["Transfer"]) == {"from": members[0], "to": ZERO_ADDRESS, "value": POINTS_PER_BADGE}
    assert badges.balanceOf(members[0], open_event) == 0
    assert points.balanceOf(members[0]) == 0 and points.getVotes(members[0]) == 0
    assert points.totalSupply() == POINTS_PER_BADGE
    assert badges.eventInfo(open_event)[3] == 1  # the place is free again


def test_issuer_may_reissue_after_a_mistaken_revocation(badges, open_event, issuer, members):
    badges.issue(open_event, [members[0]], {"from": issuer})
    badges.revoke(open_event, members[0], "mistake", {"from": issuer})
    badges.issue(open_event, [members[0]], {"from": issuer})
    assert badges.balanceOf(members[0], open_event) == 1


def test_revoking_a_badge_not_held_is_refused(badges, open_event, issuer, members):
    with brownie.reverts(revert_pattern=custom_error("BadgeNotHeld", open_event, members[0])):
        badges.revoke(open_event, members[0], "?", {"from": issuer})


def test_non_issuer_cannot_revoke(badges, open_event, org, issuer, members, outsider):
    badges.issue(open_event, [members[0]], {"from": issuer})
    with brownie.reverts(revert_pattern=custom_error("NotIssuer", org, outsider)):
        badges.revoke(open_event, members[0], "?", {"from": outsider})


def test_badges_of_lists_every_held_event(badges, org, issuer, members):
    t = now()
    ids = [badges.createEvent(org, "", 1, t - 1, t + DAY, 0, {"from": issuer}).return_value for _ in range(3)]
    badges.issue(ids[0], [members[0]], {"from": issuer})
    badges.issue(ids[2], [members[0]], {"from": issuer})
    assert list(badges.badgesOf(members[0])) == [ids[0], ids[2]]
    assert list(badges.balanceOfBatch([members[0]] * 3, ids)) == [1, 0, 1]


def test_voucher_for_an_unknown_event_is_refused(badges, org, issuer, members, outsider):
    deadline = now() + 3600
    signature = voucher(badges, issuer, members[0], 77, deadline)
    with brownie.reverts(revert_pattern=custom_error("UnknownEvent", 77)):
        badges.claim(members[0], 77, deadline, signature, {"from": outsider})


def test_voucher_respects_capacity(badges, org, issuer, members, outsider):
    t = now()
    event = badges.createEvent(org, "", 5, t - 1, t + DAY, 1, {"from": issuer}).return_value
    badges.issue(event, [members[1]], {"from": issuer})
    deadline = t + 3600
    with brownie.reverts(revert_pattern=custom_error("EventCapacityReached", event, 1)):
        badges.claim(members[0], event, deadline, voucher(badges, issuer, members[0], event, deadline),
                     {"from": outsider})


def test_malformed_signature_is_refused(badges, open_event, members, outsider):
    with brownie.reverts(revert_pattern=custom_error("InvalidSignature")):
        badges.claim(members[0], open_event, now() + 3600, b"\x01" * 64, {"from": outsider})


def test_balance_of_batch_needs_matching_lengths(badges, members):
    with brownie.reverts(revert_pattern=custom_error("ArrayLengthMismatch", 2, 1)):
        badges.balanceOfBatch([members[0], members[1]], [1])
