"""Pages anyone may read: upcoming events, an event, and the claim page a QR code leads to."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.accounts.deps import OptionalUser
from backend.events import service as events
from backend.organizations import service as organizations
from backend.platform.http import DbId, SessionDep
from backend.web.render import PageNumber, pages_of, render

router = APIRouter(include_in_schema=False)


EVENTS_PER_PAGE = 50


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: OptionalUser, page: PageNumber = 1):
    upcoming = events.list_events(session=session, upcoming=True, limit=EVENTS_PER_PAGE,
                                  offset=(page - 1) * EVENTS_PER_PAGE)
    return render(request, "home.html", user, events=upcoming, page=page,
                  pages=pages_of(upcoming.total, EVENTS_PER_PAGE),
                  organizations=organizations.organizations_by_id(session=session,
                                                                  ids={e.organization_id for e in upcoming}))


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    event = events.get_event(session=session, event_id=event_id)
    return render(request, "event.html", user, event=event, organization=event.organization)


@router.get("/claim/{event_id}", response_class=HTMLResponse)
def claim_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    """Reached from a QR code: the secret is in the URL fragment, which only the page's script reads."""
    event = events.get_event(session=session, event_id=event_id)
    return render(request, "claim.html", user, event=event, organization=event.organization)
