"""Work anyone can make the backend do stays bounded (issue #18): expired Sign-In with Ethereum nonces and perk passes
are deleted, a perk's page writes nothing, a QR sheet has at most 100 codes, and lists come a page at a time with
their total, a list of proposals in one state included (filtered by the database, not after reading every row)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.accounts import siwe
from backend.accounts.models import SiweNonce
from backend.events import service as events
from backend.governance import proposals
from backend.governance.models import Proposal, ProposalKind, RelayStatus
from backend.governance.state import proposal_state, state_column
from backend.organizations.models import Role
from backend.perks import service as perks
from backend.perks.models import Perk, PerkPass, PerkRedemption
from backend.platform.errors import Unprocessable
from backend.platform.models import IndexerCursor
from backend.platform.orm import utcnow
from tests.services.errors import refused
from tests.services.factories import give_badges, make_event, make_organization, make_user

NOW = 1_800_000_000  # the chain's clock in the proposals' tests
_ids = itertools.count(1)


# ---------------------------------------------------------------------------------------------------- purges


def test_expired_nonces_are_purged_and_the_others_kept(session):
    fresh = siwe.new_nonce(session=session)["nonce"]
    now = utcnow()
    for n, (expired, used) in enumerate([(True, False), (True, True), (False, True)]):
        session.add(SiweNonce(nonce=f"n{n}", expires_at=now + timedelta(minutes=-1 if expired else 5),
                              used_at=now if used else None))
    session.commit()
    assert siwe.purge_expired_nonces(session=session, now=now, batch=1000) == 2
    assert set(session.scalars(select(SiweNonce.nonce))) == {fresh, "n2"}  # a used one that has not expired: kept,
    # or the same signed message could log in again


def test_a_purge_deletes_at_most_its_batch(session):
    now = utcnow()
    session.add_all(SiweNonce(nonce=f"old{n}", expires_at=now - timedelta(minutes=1)) for n in range(5))
    session.commit()
    assert [siwe.purge_expired_nonces(session=session, now=now, batch=2) for _ in range(4)] == [2, 2, 1, 0]


def test_unused_passes_are_purged_an_hour_after_they_expired_and_used_ones_kept(session):
    org = make_organization(session)
    staff, member = make_user(session, organization=org, role=Role.organizer), make_user(session)
    perk = Perk(organization_id=org.id, title_ja="割引", title_en="Discount", rule={"kind": "category",
                "category": "festival", "min_badges": 1, "min_organizations": 1, "event_ids": []},
                valid_from=utcnow() - timedelta(days=1), valid_until=utcnow() + timedelta(days=1))
    session.add(perk)
    session.commit()
    now = utcnow()

    def add_pass(name: str, expired_ago: timedelta, used: bool = False) -> None:
        session.add(PerkPass(id=name, perk_id=perk.id, user_id=member.id, code_hash=name.ljust(64, "0"),
                             expires_at=now - expired_ago, used_at=now if used else None))
        session.commit()

    add_pass("long-expired", perks.PASS_KEPT_AFTER_EXPIRY + timedelta(minutes=1))
    add_pass("just-expired", timedelta(minutes=5))  # a late scan still hears "pass_expired"
    add_pass("valid", -timedelta(seconds=30))
    add_pass("redeemed", perks.PASS_KEPT_AFTER_EXPIRY + timedelta(days=1), used=True)
    session.add(PerkRedemption(perk_id=perk.id, user_id=member.id, pass_id="redeemed", staff_user_id=staff.id))
    session.commit()
    assert perks.purge_expired_passes(session=session, now=now, batch=1000) == 1
    assert set(session.scalars(select(PerkPass.id))) == {"just-expired", "valid", "redeemed"}
    assert session.scalar(select(func.count()).select_from(PerkRedemption)) == 1


# ---------------------------------------------------------------------------------------------------- a perk's page


def test_what_the_perk_page_says_instead_of_the_button_writes_no_pass(session):
    org, festival_org = make_organization(session), make_organization(session)
    festival = make_event(session, festival_org)
    perk = Perk(organization_id=org.id, title_ja="割引", title_en="Discount", limit_per_member=1,
                rule={"kind": "any_events", "event_ids": [festival.id], "min_badges": 1, "min_organizations": 1},
                valid_from=utcnow() - timedelta(days=1), valid_until=utcnow() + timedelta(days=1))
    session.add(perk)
    session.commit()
    member = make_user(session)
    assert perks.pass_refusal(session=session, perk=perk, user=member) == "not_eligible"
    give_badges(session, member, festival)
    assert perks.pass_refusal(session=session, perk=perk, user=member) is None
    assert session.scalar(select(func.count()).select_from(PerkPass)) == 0


# ---------------------------------------------------------------------------------------------------- QR sheets


def test_a_sheet_of_more_than_100_codes_is_refused_naming_the_limit_and_stores_nothing(session):
    org = make_organization(session)
    organizer = make_user(session, organization=org, role=Role.organizer)
    event = make_event(session, org)
    error = refused(events.code_sheet, session=session, user=organizer, event_id=event.id, count=101,
                    base_url="https://kyoso.example")
    assert isinstance(error, Unprocessable) and (error.code, error.params) == ("too_many_codes",
                                                                                {"limit": 100, "count": 101})
    assert events.code_sheet(session=session, user=organizer, event_id=event.id, count=100,
                             base_url="https://kyoso.example").startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------------- pages of lists


def test_a_list_gives_a_page_and_the_total(session):
    org = make_organization(session)
    made = [make_event(session, org).id for _ in range(5)]
    page = events.list_events(session=session, limit=2, offset=0)
    assert page.total == 5 and len(page) == 2
    everything = [e.id for offset in (0, 2, 4) for e in events.list_events(session=session, limit=2, offset=offset)]
    assert sorted(everything) == sorted(made)
    assert events.list_events(session=session, limit=2, offset=10) == [] and \
        events.list_events(session=session, limit=2, offset=10).total == 5


def add_proposal(session, **fields) -> Proposal:
    fields = {"status": RelayStatus.confirmed, "snapshot": NOW - 100, "deadline": NOW + 3600, **fields}
    n = next(_ids)
    row = Proposal(proposal_id=str(10**70 + n), proposer_address="0x" + "ab" * 20, kind=ProposalKind.text,
                   title_ja="題", title_en="Title", body_ja="", body_en="", description=f"# {n}", actions={}, **fields)
    session.add(row)
    session.commit()
    return row


PROPOSALS_IN_EVERY_STATE = [
    {"status": RelayStatus.accepted}, {"status": RelayStatus.submitted}, {"status": RelayStatus.failed},
    {"status": RelayStatus.awaiting_wallet},
    {"executed_tx": "0x01"}, {"closed_state": "executed", "deadline": NOW - 10},
    {"canceled": True}, {"canceled": True, "executed_tx": "0x02"},
    {"snapshot": None}, {"snapshot": NOW + 50}, {"snapshot": NOW},
    {}, {"deadline": NOW},  # active, to its last second
    {"deadline": NOW - 10, "quorum": None, "votes_for": 5},  # quorum unknown: defeated
    {"deadline": NOW - 10, "quorum": 10, "points_for": 4, "points_abstain": 5, "votes_for": 4},  # below the quorum
    {"deadline": NOW - 10, "quorum": 10, "points_for": 6, "points_abstain": 4, "votes_for": 6, "votes_against": 6},
    {"deadline": NOW - 10, "quorum": 10, "points_for": 10, "votes_for": 10},  # succeeded
    {"deadline": NOW - 10, "quorum": 0, "votes_for": 1},  # a zero quorum is reached with no points at all
    {"deadline": NOW - 10, "quorum": 10, "points_for": 10, "votes_for": 10, "eta": NOW + 60},  # queued
]


@pytest.mark.parametrize("now", [NOW, None])
def test_the_database_derives_every_proposal_state_as_the_pages_do(session, now):
    rows = [add_proposal(session, **fields) for fields in PROPOSALS_IN_EVERY_STATE]
    expected = {p.id: proposal_state(p, now) for p in rows}
    assert set(expected.values()) >= ({"pending"} if now is None else {
        "submitting", "failed", "awaiting_wallet", "executed", "canceled", "pending", "active", "defeated",
        "succeeded", "queued"})
    derived = dict(session.execute(select(Proposal.id, state_column(now))).all())
    assert derived == expected


def test_a_list_of_proposals_in_one_state_is_paged_with_its_total(session):
    session.add(IndexerCursor(name="contracts", next_block=1, block_timestamp=NOW))
    session.commit()
    active = [add_proposal(session).id for _ in range(3)]
    add_proposal(session, deadline=NOW - 10)  # defeated
    page = proposals.list_proposals(session=session, w3=None, contracts=None, state="active", limit=2, offset=0)
    assert page.total == 3 and [p.id for p in page] == active[::-1][:2]  # newest first
    rest = proposals.list_proposals(session=session, w3=None, contracts=None, state="active", limit=2, offset=2)
    assert [p.id for p in rest] == [active[0]] and {p.state for p in [*page, *rest]} == {"active"}
