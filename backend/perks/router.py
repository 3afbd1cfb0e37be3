"""Perks: what an organization offers holders of certain badges, a member's 60-second pass, redemption at the
counter, and the organization's CSV of redemptions."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.perks import service
from backend.perks.schemas import (
    PerkCreate,
    PerkPassPublic,
    PerkPublic,
    PerkStatusPublic,
    RedemptionCreate,
    RedemptionPublic,
)
from backend.platform.http import PAGED, DbId, Limit, Page, SessionDep, SettingsDep, errors, paged
from backend.platform.paging import DEFAULT_LIMIT
from backend.reports.csv import CSV_DOC, csv_response

router = APIRouter(tags=["perks"])


@router.post("/organizations/{organization_id}/perks", response_model=PerkPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403))
def create_perk(organization_id: DbId, body: PerkCreate, session: SessionDep, user: CurrentUser):
    """A perk of the organization (its owners and organizers) for members whose badges satisfy `rule`."""
    return service.create_perk(session=session, user=user, organization_id=organization_id, body=body)


@router.get("/perks", response_model=list[PerkPublic], responses=PAGED)
def list_perks(session: SessionDep, response: Response, limit: Limit = DEFAULT_LIMIT, offset: Page = 0):
    """Perks that can be used now."""
    return paged(response, service.list_perks(session=session, limit=limit, offset=offset))


@router.get("/perks/{perk_id}", response_model=PerkPublic)
def read_perk(perk_id: DbId, session: SessionDep):
    return service.get_perk(session=session, perk_id=perk_id)


@router.get("/me/perks", response_model=list[PerkStatusPublic], responses=PAGED)
def my_perks(session: SessionDep, response: Response, user: CurrentUser, limit: Limit = DEFAULT_LIMIT,
             offset: Page = 0):
    """The perks that can be used now, with whether the caller's badges qualify and how close they are."""
    return paged(response, service.perk_statuses(session=session, user=user, limit=limit, offset=offset))


@router.post("/perks/{perk_id}/passes", response_model=PerkPassPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403, 409, 410, 503))
def create_pass(perk_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """A 60-second pass to show at the counter (QR code and short code), for a member who qualifies."""
    return service.create_pass(session=session, user=user, perk_id=perk_id,
                               secret_key=settings.secret_key.get_secret_value(), base_url=settings.public_base_url)


@router.post("/redemptions", response_model=RedemptionPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(400, 403, 404, 409, 410, 429))
def redeem(body: RedemptionCreate, session: SessionDep, settings: SettingsDep, staff: CurrentUser):
    """Staff of the offering organization redeem a member's pass (scanned token or typed short code): 201 once;
    409 already_redeemed for a pass used before, 410 pass_expired after its 60 s, 403 for other organizations'
    staff or a member who does not qualify, 409 when a limit is reached."""
    return service.redeem(session=session, staff=staff, secret_key=settings.secret_key.get_secret_value(),
                          token=body.token, short_code=body.short_code)


@router.get("/organizations/{organization_id}/reports/redemptions.csv", response_class=Response,
            responses={**CSV_DOC, **errors(403)})
def redemptions_csv(organization_id: DbId, session: SessionDep, user: CurrentUser):
    """The organization's redemptions, for its own records (no member data beyond a pseudonymous member number)."""
    rows = service.redemption_rows(session=session, user=user, organization_id=organization_id)
    return csv_response(service.REDEMPTIONS_HEADER, rows, f"organization-{organization_id}-redemptions")
