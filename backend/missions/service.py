"""The rules of missions: goals across organizations whose badge the backend gives by itself (backend/missions/awards.py).

Creating a mission creates its badge event (claim window = the mission's period), which the relayer puts on chain
like any event; completions are claims of that event with method `mission`.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.models import Event
from backend.events.service import check_points_cap
from backend.missions.models import Mission
from backend.missions.schemas import MissionCreate, MissionPublic, MissionStatusPublic
from backend.organizations import gas_budget
from backend.organizations.service import ORGANIZERS, membership_of
from backend.perks.service import check_rule, rule_progress
from backend.platform import rate_limits, throttle
from backend.platform.orm import utcnow
from backend.platform.paging import DEFAULT_LIMIT, Paged, page_of

COMPLETIONS_HEADER = ["completion", "mission_event", "title_ja", "title_en", "member", "status", "completed_at",
                      "badge_confirmed_at", "tx_hash"]


def mission_public(mission: Mission) -> MissionPublic:
    event = mission.event
    return MissionPublic(id=mission.id, organization_id=mission.organization_id, event_id=event.id,
                         token_id=event.token_id, title_ja=event.title_ja, title_en=event.title_en,
                         description_ja=event.description_ja, description_en=event.description_en,
                         points=event.points, valid_from=mission.valid_from, valid_until=mission.valid_until,
                         rule=mission.rule)


def create_mission(*, session: Session, user: User, organization_id: int, body: MissionCreate) -> Mission:
    """A mission of the organization (its owners and organizers): members whose badges satisfy `body.rule` during
    the period receive its badge automatically. Its badge event's cost is reserved in the organization's gas budget
    (402 when it has no room), and missions are limited per organization and per account (429)."""
    membership = membership_of(session=session, user=user, organization_id=organization_id, roles=ORGANIZERS)
    check_rule(session=session, rule=body.rule)
    check_points_cap(session=session, points=body.points)
    gas_budget.reserve_event(session, organization_id)
    throttle.take(session, rate_limits.missions(organization_id=organization_id, user_id=user.id),
                  organization=membership.organization.name_en)
    event = Event(organization_id=organization_id, title_ja=body.title_ja, title_en=body.title_en,
                  description_ja=body.description_ja, description_en=body.description_en, category="other",
                  starts_at=body.valid_from, ends_at=body.valid_until, claim_start=body.valid_from,
                  claim_end=body.valid_until, capacity=0, points=body.points, kiosk_seed=os.urandom(32))
    mission = Mission(organization_id=organization_id, event=event, rule=body.rule.model_dump(),
                      valid_from=body.valid_from, valid_until=body.valid_until)
    session.add(mission)
    session.commit()
    return mission


def list_missions(*, session: Session, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Paged[Mission]:
    """Missions open now, a page of `limit` from `offset`."""
    now = utcnow()
    return page_of(session, select(Mission).where(Mission.valid_from <= now, Mission.valid_until >= now)
                   .order_by(Mission.id), limit=limit, offset=offset)


def mission_statuses(*, session: Session, user: User, limit: int = DEFAULT_LIMIT,
                     offset: int = 0) -> Paged[MissionStatusPublic]:
    """Open missions (a page of them) with the member's progress (badges on chain) and whether the mission badge was
    given: `open`, `completed` (the badge is on its way), `owed` (done; the badge waits until the sponsor raises the
    organization's gas budget, then it is issued) or `badge_given` (on chain)."""
    missions = list_missions(session=session, limit=limit, offset=offset)
    claims = {c.event_id: c for c in session.scalars(select(Claim).where(
        Claim.user_id == user.id, Claim.event_id.in_([m.event_id for m in missions]))).all()}
    out = []
    for mission in missions:
        claim = claims.get(mission.event_id)
        state = ("open" if claim is None or claim.status == ClaimStatus.failed
                 else "badge_given" if claim.status == ClaimStatus.confirmed
                 else "owed" if claim.status == ClaimStatus.owed else "completed")
        out.append(MissionStatusPublic(
            mission=mission_public(mission),
            progress=rule_progress(session=session, address=user.wallet_address, rule=mission.rule), status=state))
    return Paged(out, missions.total)


def completion_rows(*, session: Session, user: User, organization_id: int) -> list[list]:
    """Completions of the organization's missions as rows under COMPLETIONS_HEADER (its staff only; a pseudonymous
    member number, the badge's transaction)."""
    membership_of(session=session, user=user, organization_id=organization_id)
    rows = session.execute(select(Claim, Event).join(Event, Event.id == Claim.event_id).where(
        Event.organization_id == organization_id, Claim.method == ClaimMethod.mission).order_by(Claim.id)).all()
    return [[c.id, e.id, e.title_ja, e.title_en, "" if c.user_id is None else c.user_id, c.status.value,
             c.created_at.isoformat(), c.confirmed_at.isoformat() if c.confirmed_at else "",
             c.tx.tx_hash if c.tx is not None and c.status == ClaimStatus.confirmed else ""] for c, e in rows]
