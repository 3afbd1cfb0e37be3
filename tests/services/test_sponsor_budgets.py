"""The sponsor's budgets and the creation rate limits, without a chain: an organization whose gas budget is spent gets
402 for a new event, mission, code sheet (nothing is stored); a mission completed past the budget is owed, never lost;
the governance budget stops proposals and delegations, not votes; each creation limit refuses the one beyond it with
429, Retry-After and its own code, per organization and per account; the spend report adds up what was settled."""

from __future__ import annotations

import base64
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events import service as events
from backend.events.models import ClaimCode, Event
from backend.events.schemas import EventCreate
from backend.governance import budget as governance_budget
from backend.governance.models import GovernanceBudget, Proposal, ProposalKind, RelayStatus
from backend.missions import awards
from backend.missions import service as missions
from backend.missions.models import Mission
from backend.missions.schemas import MissionCreate
from backend.organizations import gas_budget
from backend.organizations import service as organizations
from backend.organizations.models import Membership, Organization, Role
from backend.platform import rate_limits
from backend.platform.errors import Forbidden, PaymentRequired, TooManyAttempts
from backend.platform.keys import KeyVault
from backend.platform.models import GuessThrottle, OutboundTx, TxStatus
from backend.platform.orm import utcnow
from backend.reports import spend
from tests.services.factories import give_badges, make_event, make_organization, make_user

SPONSOR = "dx@city.kanazawa.example"
BASE = "https://kyoso.example"


def event_body(**overrides) -> EventCreate:
    now = utcnow()
    fields = dict(title_ja="金箔貼り体験", title_en="Gold leaf workshop", category="crafts", starts_at=now,
                  ends_at=now + timedelta(hours=3), claim_start=now, claim_end=now + timedelta(hours=4), points=10)
    return EventCreate(**{**fields, **overrides})


def mission_body() -> MissionCreate:
    now = utcnow()
    return MissionCreate(title_ja="工芸探検", title_en="Craft explorer", points=5,
                         valid_from=now - timedelta(hours=1), valid_until=now + timedelta(days=30),
                         rule={"kind": "category", "category": "crafts", "min_badges": 1})


def budget_left(session, org: Organization) -> int:
    session.refresh(org)
    return org.gas_budget - org.gas_used - org.gas_reserved


def spend_all(session, org: Organization, leave: int = 0) -> None:
    """The sponsor's budget for the organization is what it used and holds, plus `leave`."""
    session.refresh(org)
    org.gas_budget = org.gas_used + org.gas_reserved + leave
    session.commit()


@pytest.fixture
def org(session) -> Organization:
    return make_organization(session)


@pytest.fixture
def organizer(session, org):
    return make_user(session, organization=org)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------------------------------------------- org budget


def test_a_new_event_reserves_its_cost_until_it_is_on_chain(session, org, organizer):
    before = budget_left(session, org)
    events.create_event(session=session, user=organizer, organization_id=org.id, body=event_body())
    assert before - budget_left(session, org) == gas_budget.EVENT_GAS_ESTIMATE


def test_a_spent_budget_refuses_events_missions_and_code_sheets_naming_the_organization(session, org, organizer):
    event = make_event(session, org, category="crafts")
    spend_all(session, org, leave=gas_budget.EVENT_GAS_ESTIMATE - 1)
    stored = (count(session, Event), count(session, Mission), count(session, ClaimCode), org.gas_reserved)
    attempts = [
        lambda: events.create_event(session=session, user=organizer, organization_id=org.id, body=event_body()),
        lambda: missions.create_mission(session=session, user=organizer, organization_id=org.id,
                                        body=mission_body()),
    ]
    for attempt in attempts:
        with pytest.raises(PaymentRequired) as refused:
            attempt()
        session.rollback()  # what the request's session does with a refusal
        assert refused.value.code == "gas_budget_exhausted" and refused.value.status == 402
        assert refused.value.params == {"organization": org.name_en}
    # a sheet needs room for one claim: there is (EVENT_GAS_ESTIMATE - 1 > GAS_PER_CLAIM_ESTIMATE), then none
    assert len(events.create_codes(session=session, user=organizer, event_id=event.id, count=2, base_url=BASE)) == 2
    spend_all(session, org, leave=gas_budget.GAS_PER_CLAIM_ESTIMATE - 1)
    for make in (events.create_codes, events.code_sheet):
        with pytest.raises(PaymentRequired) as refused:
            make(session=session, user=organizer, event_id=event.id, count=5, base_url=BASE)
        session.rollback()
        assert refused.value.params == {"organization": org.name_en}
    assert (count(session, Event), count(session, Mission), count(session, ClaimCode)) == (
        stored[0], stored[1], stored[2] + 2)
    session.refresh(org)
    assert org.gas_reserved == stored[3]  # nothing was reserved by the refusals


def test_a_mission_completed_past_the_budget_is_owed_and_issued_once_the_budget_is_raised(session, org, organizer):
    mission = missions.create_mission(session=session, user=organizer, organization_id=org.id, body=mission_body())
    crafts = make_event(session, make_organization(session), category="crafts")
    first, second = make_user(session), make_user(session)
    give_badges(session, first, crafts)
    give_badges(session, second, crafts)
    spend_all(session, org, leave=gas_budget.GAS_PER_CLAIM_ESTIMATE)  # room for one mission badge
    assert awards.award(session, [first.wallet_address, second.wallet_address], utcnow()) == 2
    session.commit()
    statuses = dict(session.execute(select(Claim.user_id, Claim.status)
                                    .where(Claim.event_id == mission.event_id)).all())
    assert statuses == {first.id: ClaimStatus.accepted, second.id: ClaimStatus.owed}
    assert budget_left(session, org) == 0
    assert missions.mission_statuses(session=session, user=second)[0].status == "owed"  # and the page says so
    assert awards.pay_owed(session) == 0  # still no room: still owed, not failed
    org.gas_budget += gas_budget.GAS_PER_CLAIM_ESTIMATE  # the sponsor raises the budget
    session.commit()
    assert awards.sweep_new(session, utcnow()) == 0  # the indexer's step pays what is owed
    session.commit()
    assert session.get(Claim, session.scalar(select(Claim.id).where(Claim.user_id == second.id))).status == \
        ClaimStatus.accepted
    assert budget_left(session, org) == 0  # reserved like any claim
    assert missions.mission_statuses(session=session, user=second)[0].status == "completed"


def test_owed_badges_are_paid_oldest_first_as_far_as_the_budget_goes(session, org, organizer):
    mission = missions.create_mission(session=session, user=organizer, organization_id=org.id, body=mission_body())
    members = [make_user(session) for _ in range(3)]
    spend_all(session, org)
    for member in members:
        session.add(Claim(user_id=member.id, event_id=mission.event_id, recipient=member.wallet_address,
                          method=ClaimMethod.mission, status=ClaimStatus.owed))
    session.commit()
    org.gas_budget += 2 * gas_budget.GAS_PER_CLAIM_ESTIMATE
    session.commit()
    assert awards.pay_owed(session) == 2
    session.commit()
    assert [c.status for c in session.scalars(select(Claim).order_by(Claim.id))] == [
        ClaimStatus.accepted, ClaimStatus.accepted, ClaimStatus.owed]


def test_only_the_sponsor_sets_budgets(session, org, organizer):
    with pytest.raises(Forbidden):
        organizations.set_gas_budget(session=session, user=organizer, organization_id=org.id, gas_budget=1)
    with pytest.raises(Forbidden):
        governance_budget.set_budget(session=session, user=organizer, gas_budget=1)
    with pytest.raises(Forbidden):  # an unconfirmed address has no power, whatever its account's role
        governance_budget.set_budget(session=session, user=make_user(session, sponsor=True, verified=False),
                                     gas_budget=1)
    sponsor = make_user(session, email=SPONSOR, sponsor=True)
    state = governance_budget.set_budget(session=session, user=sponsor, gas_budget=5_000_000)
    assert (state.gas_budget, state.proposals_stop_at) == (5_000_000, 4_000_000)


# ---------------------------------------------------------------------------------------------------- governance


def test_the_governance_budget_starts_generous():
    assert governance_budget.DEFAULT_GAS_BUDGET == 2_000_000_000


def test_proposals_stop_at_their_share_of_the_budget_counting_those_in_flight():
    estimate, line = governance_budget.PROPOSAL_GAS_ESTIMATE, governance_budget.stop_line(10_000_000)
    assert line == 8_000_000
    governance_budget.check_room(gas_budget=10_000_000, gas_used=line - 2 * estimate, reserved=estimate,
                                 gas=estimate)
    with pytest.raises(PaymentRequired) as refused:
        governance_budget.check_room(gas_budget=10_000_000, gas_used=line - 2 * estimate, reserved=2 * estimate,
                                     gas=estimate)
    assert refused.value.code == "governance_budget_exhausted" and refused.value.status == 402


def proposal(session, n: int, status: RelayStatus, closed: str | None = None) -> Proposal:
    row = Proposal(proposal_id=str(n), proposer_address=f"0x{n:040x}", kind=ProposalKind.text, title_ja="提案",
                   title_en="A proposal", description="d", actions={}, status=status, closed_state=closed)
    session.add(row)
    session.commit()
    return row


def test_a_proposal_flood_is_refused_before_it_is_sent_and_votes_are_never_refused(session):
    estimate = governance_budget.PROPOSAL_GAS_ESTIMATE
    row = governance_budget.budget_row(session)
    row.gas_budget, row.gas_used = 5 * estimate, 0  # the proposals' share: four estimates
    session.commit()
    for n, status in enumerate([RelayStatus.accepted, RelayStatus.submitted, RelayStatus.confirmed], start=1):
        governance_budget.refuse_proposal_if_spent(session=session)
        proposal(session, n, status)
    governance_budget.refuse_proposal_if_spent(session=session)  # the fourth fits
    proposal(session, 4, RelayStatus.accepted)
    with pytest.raises(PaymentRequired):
        governance_budget.refuse_proposal_if_spent(session=session)
    with pytest.raises(PaymentRequired):
        governance_budget.refuse_delegation_if_spent(session=session)
    # what does not hold: an own-wallet member's proposal not yet on chain, a failed one, a closed one
    session.execute(update(Proposal).where(Proposal.proposal_id == "4").values(status=RelayStatus.awaiting_wallet))
    session.commit()
    proposal(session, 5, RelayStatus.failed)
    proposal(session, 6, RelayStatus.confirmed, closed="defeated")
    governance_budget.refuse_proposal_if_spent(session=session)
    # the relayer charges what governance transactions used; votes are charged past the budget, never refused
    governance_budget.charge(session, 10 * estimate)
    session.commit()
    assert session.scalar(select(GovernanceBudget.gas_used)) == 10 * estimate
    with pytest.raises(PaymentRequired):
        governance_budget.refuse_proposal_if_spent(session=session)


# ---------------------------------------------------------------------------------------------------- rate limits


def test_the_fourth_organization_of_a_day_is_refused_and_another_account_is_not(session):
    vault, founder, other = KeyVault(base64.b64encode(os.urandom(32)).decode()), make_user(session), make_user(session)
    for n in range(rate_limits.ORGANIZATIONS_PER_ACCOUNT.count):
        organizations.create_organization(session=session, vault=vault, user=founder, name_ja=f"団体{n}",
                                          name_en=f"Org {n}")
    with pytest.raises(TooManyAttempts) as refused:
        organizations.create_organization(session=session, vault=vault, user=founder, name_ja="四", name_en="4th")
    session.rollback()
    assert refused.value.status == 429 and refused.value.code == "rate_limit_organizations_per_account"
    retry_after = int(refused.value.headers["Retry-After"])
    assert 24 * 3600 - 60 < retry_after <= 24 * 3600
    assert refused.value.params["limit"] == 3
    organizations.create_organization(session=session, vault=vault, user=other, name_ja="他", name_en="Other")
    # the day is over: the founder may again
    session.execute(update(GuessThrottle).where(GuessThrottle.key == f"organizations:user:{founder.id}")
                    .values(window_start=utcnow() - timedelta(days=1, seconds=1)))
    session.commit()
    organizations.create_organization(session=session, vault=vault, user=founder, name_ja="翌日", name_en="Next day")


def member_of(session, org: Organization, user) -> None:
    session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.organizer))
    session.commit()


def test_the_51st_event_of_an_hour_is_refused_per_organization_and_per_account(session, org, organizer):
    limit = rate_limits.EVENTS_PER_ORGANIZATION.count
    assert limit == rate_limits.EVENTS_PER_ACCOUNT.count == 50
    org.gas_budget = 10**12
    colleague = make_user(session, organization=org)
    for n in range(limit):  # two organizers of one organization share its limit
        who = organizer if n % 2 else colleague
        events.create_event(session=session, user=who, organization_id=org.id, body=event_body())
    with pytest.raises(TooManyAttempts) as refused:
        events.create_event(session=session, user=colleague, organization_id=org.id, body=event_body())
    session.rollback()
    assert refused.value.code == "rate_limit_events_per_organization"
    assert refused.value.params["organization"] == org.name_en and int(refused.value.headers["Retry-After"]) > 3500
    reserved = budget_left(session, org)
    # the colleague has made 25 and may make more in another organization; nothing was counted or reserved above
    other = make_organization(session)
    member_of(session, other, colleague)
    events.create_event(session=session, user=colleague, organization_id=other.id, body=event_body())
    assert budget_left(session, org) == reserved
    # one account across organizations: its own limit
    busy = make_user(session)
    orgs = [make_organization(session) for _ in range(3)]
    for o in orgs:
        member_of(session, o, busy)
    for n in range(limit):
        events.create_event(session=session, user=busy, organization_id=orgs[n % 2].id, body=event_body())
    with pytest.raises(TooManyAttempts) as refused:
        events.create_event(session=session, user=busy, organization_id=orgs[2].id, body=event_body())
    session.rollback()
    assert refused.value.code == "rate_limit_events_per_account"
    # the refusal by the account's limit did not use up the third organization's count (rolled back with it)
    assert session.get(GuessThrottle, f"events:org:{orgs[2].id}") is None or \
        session.get(GuessThrottle, f"events:org:{orgs[2].id}").failures == 0


def test_missions_and_code_sheets_have_limits_of_their_own(session, org, organizer, monkeypatch):
    monkeypatch.setattr(rate_limits, "MISSIONS_PER_ORGANIZATION",
                        rate_limits.MISSIONS_PER_ORGANIZATION.__class__("rate_limit_missions_per_organization", 2,
                                                                        timedelta(hours=1)))
    monkeypatch.setattr(rate_limits, "CODE_SHEETS_PER_ACCOUNT",
                        rate_limits.CODE_SHEETS_PER_ACCOUNT.__class__("rate_limit_code_sheets_per_account", 2,
                                                                      timedelta(hours=1)))
    for _ in range(2):
        missions.create_mission(session=session, user=organizer, organization_id=org.id, body=mission_body())
    with pytest.raises(TooManyAttempts) as refused:
        missions.create_mission(session=session, user=organizer, organization_id=org.id, body=mission_body())
    session.rollback()
    assert refused.value.code == "rate_limit_missions_per_organization"
    event = make_event(session, org)
    events.create_codes(session=session, user=organizer, event_id=event.id, count=1, base_url=BASE)
    events.code_sheet(session=session, user=organizer, event_id=event.id, count=1, base_url=BASE)
    with pytest.raises(TooManyAttempts) as refused:
        events.create_codes(session=session, user=organizer, event_id=event.id, count=1, base_url=BASE)
    session.rollback()
    assert refused.value.code == "rate_limit_code_sheets_per_account"
    assert count(session, ClaimCode) == 2


def test_every_limit_has_its_reason_and_its_own_code():
    limits = [v for v in vars(rate_limits).values() if isinstance(v, rate_limits.RateLimit)]
    assert len(limits) == 13 and len({limit.code for limit in limits}) == 13  # 5 of them on mail (issue #18)
    assert all(limit.code.startswith("rate_limit_") and limit.count > 0 for limit in limits)


# ---------------------------------------------------------------------------------------------------- spend report


def tx(session, n: int, purpose: str, organization_id: int | None, gas: int | None, fee: int | None,
       status: TxStatus = TxStatus.mined) -> None:
    session.add(OutboundTx(sender=f"0x{n:040x}", nonce=n, purpose=purpose, organization_id=organization_id,
                           subject_id=organization_id, tx_hash=f"0x{n:064x}", raw=b"", status=status, gas_limit=10**6,
                           gas_used=gas, fee_paid=fee))


def test_the_spend_report_adds_up_per_organization_and_kind_exactly(session, org, organizer):
    big = 2**63 + 7  # fees beyond what a 64-bit column sums
    tx(session, 1, "issue", org.id, 100_000, big)
    tx(session, 2, "issue", org.id, 50_000, 3, status=TxStatus.reverted)
    tx(session, 3, "fund", org.id, 21_000, big)
    tx(session, 4, "vote", None, 70_000, 5)
    tx(session, 5, "vote", None, 80_000, None)  # settled before fees were recorded
    tx(session, 6, "vote", None, None, None, status=TxStatus.broadcast)  # not settled: not in the report
    session.commit()
    with pytest.raises(Forbidden):
        spend.sponsor_spend(session=session, user=organizer)
    report = spend.sponsor_spend(session=session, user=make_user(session, email=SPONSOR, sponsor=True))
    rows = [(r.organization_id, r.purpose, r.transactions, r.reverted, r.gas_used, r.fee_paid_wei) for r in report.rows]
    assert rows == [(org.id, "fund", 1, 0, 21_000, str(big)), (org.id, "issue", 2, 1, 150_000, str(big + 3)),
                    (None, "vote", 2, 0, 150_000, "5")]
    assert (report.transactions, report.gas_used, report.fee_paid_wei, report.fees_unknown) == (
        5, 321_000, str(2 * big + 8), 1)
    assert report.governance_fee_paid_wei == "5"
    assert next(b for b in report.organizations if b.organization_id == org.id).fee_paid_wei == str(2 * big + 3)
    csv_rows = spend.spend_rows(report)
    assert csv_rows[-1] == ["governance", "", "", "", "vote", 2, 0, 150_000, "5"]
    assert len(spend.SPEND_HEADER) == len(csv_rows[0])
