"""Events and their claim codes (printed sheet, rotating kiosk code, secret word)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.events import service
from backend.events.schemas import (
    CodeSheetCreate,
    CodesCreate,
    CodesPublic,
    EventCreate,
    EventPublic,
    EventUpdate,
    KioskPublic,
)
from backend.platform.http import PAGED, DbId, Limit, Page, SessionDep, SettingsDep, errors, paged
from backend.platform.paging import DEFAULT_LIMIT

router = APIRouter(tags=["events"])


@router.post("/organizations/{organization_id}/events", response_model=EventPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(402, 403, 429))
def create_event(organization_id: DbId, body: EventCreate, session: SessionDep, user: CurrentUser):
    """Creates an event of the organization (its organizers only); the relayer registers it on chain. 402 once the
    organization's gas budget has no room for it; 429 beyond the events an organization or account may create per
    hour."""
    event = service.create_event(session=session, user=user, organization_id=organization_id, body=body)
    return service.event_public(event)


@router.patch("/events/{event_id}", response_model=EventPublic, responses=errors(403))
def update_event(event_id: DbId, body: EventUpdate, session: SessionDep, user: CurrentUser):
    """Edits an event's texts (its organizers only); a field left out or null stays as it is."""
    return service.event_public(service.update_event(session=session, user=user, event_id=event_id, body=body))


@router.get("/events", response_model=list[EventPublic], responses=PAGED)
def list_events(session: SessionDep, response: Response, upcoming: bool = True, limit: Limit = DEFAULT_LIMIT,
                offset: Page = 0):
    """Events, soonest first; by default those that have not ended yet. Missions' badge events are not events to
    attend: they are listed under /missions."""
    return paged(response, service.list_events(session=session, upcoming=upcoming, limit=limit, offset=offset)
                 .map(service.event_public))


@router.get("/events/{event_id}", response_model=EventPublic)
def read_event(event_id: DbId, session: SessionDep):
    return service.event_public(service.get_event(session=session, event_id=event_id))


@router.get("/events/{event_id}/stats", responses=errors(403))
def event_stats(event_id: DbId, session: SessionDep, user: CurrentUser) -> dict:
    return service.event_stats(session=session, user=user, event_id=event_id)


@router.post("/events/{event_id}/codes", response_model=CodesPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(402, 403, 429))
def create_codes(event_id: DbId, body: CodesCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """Single-use claim links (128-bit secrets, stored hashed): shown once, in this response only."""
    urls = service.create_codes(session=session, user=user, event_id=event_id, count=body.count,
                                base_url=settings.public_base_url)
    return CodesPublic(event_id=event_id, claim_urls=urls)


@router.post("/events/{event_id}/code-sheet", response_class=Response,
             responses={**errors(402, 403, 429), 200: {"content": {"image/png": {}}}})
def code_sheet(event_id: DbId, body: CodeSheetCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """A printable PNG sheet of single-use QR codes (new codes each time; they are not stored in clear); at most 100
    per sheet (422 beyond), several sheets for more."""
    png = service.code_sheet(session=session, user=user, event_id=event_id, count=body.count,
                             base_url=settings.public_base_url)
    return Response(png, media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="{service.code_sheet_filename(event_id)}"'})


@router.get("/events/{event_id}/kiosk", response_model=KioskPublic, responses=errors(403))
def kiosk(event_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """The current rotating code for a screen at the venue (organizers only)."""
    return service.kiosk(session=session, user=user, event_id=event_id, base_url=settings.public_base_url)
