"""Missions: goals across organizations whose badge the backend gives by itself; a member's progress, and the
organization's CSV of completions."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.missions import service
from backend.missions.schemas import MissionCreate, MissionPublic, MissionStatusPublic
from backend.platform.http import PAGED, DbId, Limit, Page, SessionDep, errors, paged
from backend.platform.paging import DEFAULT_LIMIT
from backend.reports.csv import CSV_DOC, csv_response

router = APIRouter(tags=["missions"])


@router.post("/organizations/{organization_id}/missions", response_model=MissionPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(402, 403, 429))
def create_mission(organization_id: DbId, body: MissionCreate, session: SessionDep, user: CurrentUser):
    """A mission of the organization (its owners and organizers): members whose badges satisfy `rule` during the
    period receive its badge automatically."""
    mission = service.create_mission(session=session, user=user, organization_id=organization_id, body=body)
    return service.mission_public(mission)


@router.get("/missions", response_model=list[MissionPublic], responses=PAGED)
def list_missions(session: SessionDep, response: Response, limit: Limit = DEFAULT_LIMIT, offset: Page = 0):
    """Missions open now."""
    return paged(response, service.list_missions(session=session, limit=limit, offset=offset)
                 .map(service.mission_public))


@router.get("/me/missions", response_model=list[MissionStatusPublic], responses=PAGED)
def my_missions(session: SessionDep, response: Response, user: CurrentUser, limit: Limit = DEFAULT_LIMIT,
                offset: Page = 0):
    """Open missions with the caller's progress (badges on chain) and whether the mission badge was given."""
    return paged(response, service.mission_statuses(session=session, user=user, limit=limit, offset=offset))


@router.get("/organizations/{organization_id}/reports/missions.csv", response_class=Response,
            responses={**CSV_DOC, **errors(403)})
def missions_csv(organization_id: DbId, session: SessionDep, user: CurrentUser):
    """Completions of the organization's missions (a pseudonymous member number, the badge's transaction)."""
    rows = service.completion_rows(session=session, user=user, organization_id=organization_id)
    return csv_response(service.COMPLETIONS_HEADER, rows, f"organization-{organization_id}-missions")
