"""The rules of missions: creating one creates its badge event; a member's progress comes from the badges on chain;
completion records the mission badge's claim exactly once (the indexer's `award` and its sweep of new missions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.accounts.models import User
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.models import Event
from backend.missions import awards
from backend.missions import service as missions
from backend.missions.schemas import MissionCreate
from backend.organizations.models import Organization
from backend.platform.errors import Forbidden, Unprocessable
from backend.platform.orm import utcnow
from tests.services.factories import give_badges, make_event, make_organization, make_user


def user(session, organization: Organization | None = None) -> User:
    return make_user(session, organization=organization)


organization, holds = make_organization, give_badges


def event(session, org: Organization, category: str = "crafts") -> Event:
    return make_event(session, org, category=category)










def body(rule: dict, **fields) -> MissionCreate:
    now = utcnow()
    return MissionCreate(title_ja="金沢工芸探検家", title_en="Kanazawa craft explorer", points=5,
                         valid_from=fields.pop("valid_from", now - timedelta(hours=1)),
                         valid_until=fields.pop("valid_until", now + timedelta(days=30)), rule=rule, **fields)


@pytest.fixture
def organizer(session):
    org = organization(session)
    return org, user(session, org)


CRAFTS_OF_TWO = {"kind": "category", "category": "crafts", "min_badges": 2, "min_organizations": 2}


def test_a_mission_creates_its_badge_event_over_its_period(session, organizer):
    org, staff = organizer
    mission = missions.create_mission(session=session, user=staff, organization_id=org.id, body=body(CRAFTS_OF_TWO))
    public = missions.mission_public(mission)
    assert (public.title_en, public.points, public.organization_id) == ("Kanazawa craft explorer", 5, org.id)
    badge = session.get(Event, public.event_id)
    assert (badge.claim_start, badge.claim_end, badge.category) == (mission.valid_from, mission.valid_until, "other")
    assert [m.id for m in missions.list_missions(session=session)] == [mission.id]


def test_only_organizers_create_missions_and_a_rule_must_name_real_events(session, organizer):
    org, staff = organizer
    with pytest.raises(Forbidden) as refused:
        missions.create_mission(session=session, user=user(session), organization_id=org.id, body=body(CRAFTS_OF_TWO))
    assert refused.value.code == "not_an_organizer"
    with pytest.raises(Unprocessable) as unknown:
        missions.create_mission(session=session, user=staff, organization_id=org.id,
                                body=body({"kind": "any_events", "event_ids": [777_777]}))
    assert unknown.value.code == "unknown_events" and unknown.value.params == {"event_ids": [777_777]}


def test_missions_outside_their_period_are_not_listed(session, organizer):
    org, staff = organizer
    now = utcnow()
    missions.create_mission(session=session, user=staff, organization_id=org.id,
                            body=body(CRAFTS_OF_TWO, valid_from=now + timedelta(days=1),
                                      valid_until=now + timedelta(days=2)))
    assert missions.list_missions(session=session) == []


def test_progress_counts_badges_on_chain_and_their_organizations(session, organizer):
    org, staff = organizer
    mission = missions.create_mission(session=session, user=staff, organization_id=org.id, body=body(CRAFTS_OF_TWO))
    member = user(session)
    first_org = organization(session)
    holds(session, member, event(session, first_org), event(session, first_org))
    (status,) = missions.mission_statuses(session=session, user=member)
    assert status.mission.id == mission.id and status.status == "open"
    assert (status.progress.eligible, status.progress.badges, status.progress.organizations) == (False, 2, 1)


def test_completion_records_the_mission_claim_once(session, organizer):
    org, staff = organizer
    mission = missions.create_mission(session=session, user=staff, organization_id=org.id, body=body(CRAFTS_OF_TWO))
    member = user(session)
    holds(session, member, event(session, organization(session)))
    assert awards.award(session, [member.wallet_address], utcnow()) == 0
    holds(session, member, event(session, organization(session)))
    assert awards.award(session, [member.wallet_address], utcnow()) == 1
    assert awards.award(session, [member.wallet_address], utcnow()) == 0  # the same blocks processed again
    session.commit()
    (claim,) = session.scalars(select(Claim).where(Claim.event_id == mission.event_id)).all()
    assert (claim.user_id, claim.method, claim.status) == (member.id, ClaimMethod.mission, ClaimStatus.accepted)
    reserved = session.scalar(select(Organization.gas_reserved).where(Organization.id == org.id))
    assert reserved > 0  # its estimate, reserved in the organization's budget (backend/missions/awards.py)
    assert missions.mission_statuses(session=session, user=member)[0].status == "completed"
    claim.status = ClaimStatus.confirmed
    session.commit()
    assert missions.mission_statuses(session=session, user=member)[0].status == "badge_given"


def test_a_mission_badge_does_not_count_towards_a_category_mission(session, organizer):
    org, staff = organizer
    first = missions.create_mission(session=session, user=staff, organization_id=org.id,
                                    body=body({"kind": "category", "category": "other"}))
    badge = session.get(Event, first.event_id)
    badge.token_id = 10**9  # on chain
    member = user(session)
    holds(session, member, badge)
    assert missions.mission_statuses(session=session, user=member)[0].progress.badges == 0


def test_a_new_mission_is_swept_once_for_members_who_already_qualify(session, organizer):
    org, staff = organizer
    member = user(session)
    holds(session, member, event(session, organization(session)), event(session, organization(session)))
    mission = missions.create_mission(session=session, user=staff, organization_id=org.id, body=body(CRAFTS_OF_TWO))
    assert awards.sweep_new(session, utcnow()) == 1
    assert awards.sweep_new(session, utcnow()) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(Claim).where(Claim.event_id == mission.event_id)) == 1


def test_the_completions_report_is_for_the_organizations_staff(session, organizer):
    org, staff = organizer
    missions.create_mission(session=session, user=staff, organization_id=org.id, body=body(CRAFTS_OF_TWO))
    member = user(session)
    holds(session, member, event(session, organization(session)), event(session, organization(session)))
    awards.sweep_new(session, utcnow())
    session.commit()
    rows = missions.completion_rows(session=session, user=staff, organization_id=org.id)
    assert [r[2:6] for r in rows] == [["金沢工芸探検家", "Kanazawa craft explorer", member.id, "accepted"]]
    assert rows[0][-1] == "" and len(rows[0]) == len(missions.COMPLETIONS_HEADER)
    with pytest.raises(Forbidden):
        missions.completion_rows(session=session, user=member, organization_id=org.id)
