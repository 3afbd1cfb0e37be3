"""The organizer's console: their organizations and events, an event's live claim count, its printable QR codes and
the kiosk screen with the rotating code."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from backend.accounts.deps import CurrentUser, OptionalUser
from backend.events import service as events
from backend.i18n import Translator, language_of
from backend.organizations import allowance
from backend.organizations import service as organizations
from backend.organizations.models import Role
from backend.platform.http import DbId, SessionDep, SettingsDep
from backend.platform.paging import MAX_LIMIT
from backend.reports import service as reports
from backend.web.forms import form_user
from backend.web.render import PageNumber, login_redirect, pages_of, render

router = APIRouter(include_in_schema=False)


ORGANIZATIONS_PER_PAGE = 50  # of the stewards' list of every organization (`?page=`)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser, page: PageNumber = 1):
    if user is None:
        return login_redirect(request)
    orgs = organizations.organizations_of(session=session, user=user, limit=MAX_LIMIT)
    org_events = {o.id: events.events_of_organization(session=session, organization_id=o.id) for o in orgs}
    stewarding = (organizations.organizations_by_status(session=session, user=user, limit=ORGANIZATIONS_PER_PAGE,
                                                        offset=(page - 1) * ORGANIZATIONS_PER_PAGE)
                  if organizations.is_steward(user) else None)
    limits = allowance.limits_of(session)
    # owners manage who belongs: members to remove, invitations to revoke
    roles = organizations.roles_of(session=session, user=user)
    owned = [o.id for o in orgs if roles.get(o.id) == Role.owner]
    members = {i: organizations.members_of(session=session, user=user, organization_id=i) for i in owned}
    invitations = {i: organizations.pending_invitations(session=session, user=user, organization_id=i) for i in owned}
    return render(request, "console.html", user, organizations=orgs, org_events=org_events, stewarding=stewarding,
                  page=page, pages=pages_of(stewarding.total, ORGANIZATIONS_PER_PAGE) if stewarding else 1,
                  max_event_points=limits.max_event_points if limits else 1_000_000,
                  sponsor=organizations.is_sponsor(user), members=members,
                  invitations=invitations)


@router.get("/console/events/{event_id}", response_class=HTMLResponse)
def console_event(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    event = events.organizer_event(session=session, user=user, event_id=event_id)
    texts = Translator(language_of(request))
    counts = reports.claim_counts(session=session, event_id=event_id)
    buckets = reports.claim_buckets(session=session, event_id=event_id)
    return render(request, "console_event.html", user, event=event, counts=counts,
                  chart=[(texts.time(at), n) for at, n in buckets])


@router.get("/console/events/{event_id}/live")
def console_event_live(event_id: DbId, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """The live count and chart data for the console page's script."""
    events.organizer_event(session=session, user=user, event_id=event_id)
    texts, counts = Translator(language_of(request)), reports.claim_counts(session=session, event_id=event_id)
    buckets = reports.claim_buckets(session=session, event_id=event_id)
    return {**counts, "buckets": [{"label": texts.time(at), "count": n} for at, n in buckets],
            "label": texts.plural("claims_count", counts["total"], c=texts.number(counts["confirmed"]))}


@router.post("/console/events/{event_id}/sheet")
def console_sheet(event_id: DbId, request: Request, session: SessionDep, settings: SettingsDep,
                  count: int = Form(ge=1)):
    """The printable QR sheet as a download (a plain form post: works without JavaScript)."""
    user = form_user(request, session)
    if user is None:
        return login_redirect(request)
    png = events.code_sheet(session=session, user=user, event_id=event_id, count=count,
                            base_url=settings.public_base_url)
    return Response(png, media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="{events.code_sheet_filename(event_id)}"'})


@router.get("/console/events/{event_id}/kiosk", response_class=HTMLResponse)
def kiosk_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    event = events.organizer_event(session=session, user=user, event_id=event_id)
    return render(request, "kiosk.html", user, event=event)


@router.get("/console/events/{event_id}/kiosk.svg")
def kiosk_qr(event_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """The current rotating code as a QR image (the kiosk page refreshes it)."""
    current = events.kiosk(session=session, user=user, event_id=event_id, base_url=settings.public_base_url)
    svg = segno.make(current.claim_url, error="m").svg_inline(scale=10, border=4, dark="#000", light="#fff")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store",
                                                              "X-Kiosk-Code": current.code,
                                                              "X-Valid-For": str(current.valid_for_s)})
