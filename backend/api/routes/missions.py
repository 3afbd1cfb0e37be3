"""Missions: goals across organizations whose badge the backend gives by itself (backend/perks/missions.py).

Creating a mission creates its badge event (claim window = the mission's period), which the relayer puts on chain
like any event; completions are claims of that event with method `mission`.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.errors import errors
from backend.api.routes.organizations import membership_of
from backend.api.routes.perks import check_rule
from backend.api.routes.treasury import _csv
from backend.api.deps import CurrentUser, DbId, SessionDep
from backend.accounts.models import User
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.models import Event
from backend.missions.models import Mission
from backend.organizations.models import Role
from backend.platform.orm import utcnow
from backend.perks.rules import progress
from backend.missions.schemas import MissionCreate, MissionPublic, MissionStatusPublic

router = APIRouter(tags=["missions"])


def mission_public(mission: Mission) -> MissionPublic:
    event = mission.event
    return MissionPublic(id=mission.id, organization_id=mission.organization_id, event_id=event.id,
                         token_id=event.token_id, title_ja=event.title_ja, title_en=event.title_en,
                         description_ja=event.description_ja, description_en=event.description_en,
                         points=event.points, valid_from=mission.valid_from, valid_until=mission.valid_until,
                         rule=mission.rule)


@router.post("/organizations/{organization_id}/missions", response_model=MissionPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(403))
def create_mission(organization_id: DbId, body: MissionCreate, session: SessionDep, user: CurrentUser):
    """A mission of the organization (its owners and organizers): members whose badges satisfy `rule` during the
    period receive its badge automatically."""
    membership_of(session, user, organization_id, Role.owner, Role.organizer)
    check_rule(session, body.rule)
    event = Event(organization_id=organization_id, title_ja=body.title_ja, title_en=body.title_en,
                  description_ja=body.description_ja, description_en=body.description_en, category="other",
                  starts_at=body.valid_from, ends_at=body.valid_until, claim_start=body.valid_from,
                  claim_end=body.valid_until, capacity=0, points=body.points, kiosk_seed=os.urandom(32))
    mission = Mission(organization_id=organization_id, event=event, rule=body.rule.model_dump(),
                      valid_from=body.valid_from, valid_until=body.valid_until)
    session.add(mission)
    session.commit()
    return mission_public(mission)


@router.get("/missions", response_model=list[MissionPublic])
def list_missions(session: SessionDep):
    """Missions open now."""
    now = utcnow()
    rows = session.scalars(select(Mission).where(Mission.valid_from <= now, Mission.valid_until >= now)
                           .order_by(Mission.id)).all()
    return [mission_public(m) for m in rows]


def mission_statuses(session: Session, user: User) -> list[MissionStatusPublic]:
    missions = list_missions(session)
    claims = {c.event_id: c for c in session.scalars(select(Claim).where(
        Claim.user_id == user.id, Claim.event_id.in_([m.event_id for m in missions]))).all()}
    out = []
    for mission in missions:
        claim = claims.get(mission.event_id)
        state = ("open" if claim is None or claim.status == ClaimStatus.failed
                 else "badge_given" if claim.status == ClaimStatus.confirmed else "completed")
        out.append(MissionStatusPublic(mission=mission, progress=progress(session, user.wallet_address, mission.rule),
                                       status=state))
    return out


@router.get("/me/missions", response_model=list[MissionStatusPublic])
def my_missions(session: SessionDep, user: CurrentUser):
    """Open missions with the caller's progress (badges on chain) and whether the mission badge was given."""
    return mission_statuses(session, user)


@router.get("/organizations/{organization_id}/reports/missions.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}, **errors(403)})
def missions_csv(organization_id: DbId, session: SessionDep, user: CurrentUser):
    """Completions of the organization's missions (a pseudonymous member number, the badge's transaction)."""
    membership_of(session, user, organization_id)
    rows = session.execute(select(Claim, Event).join(Event, Event.id == Claim.event_id).where(
        Event.organization_id == organization_id, Claim.method == ClaimMethod.mission).order_by(Claim.id)).all()
    return _csv(f"organization-{organization_id}-missions",
                ["completion", "mission_event", "title_ja", "title_en", "member", "status", "completed_at",
                 "badge_confirmed_at", "tx_hash"],
                [[c.id, e.id, e.title_ja, e.title_en, "" if c.user_id is None else c.user_id, c.status.value,
                  c.created_at.isoformat(), c.confirmed_at.isoformat() if c.confirmed_at else "",
                  c.tx.tx_hash if c.tx is not None and c.status == ClaimStatus.confirmed else ""] for c, e in rows])
