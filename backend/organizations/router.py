"""Organizations over HTTP (the city, shops, universities, NPOs): their members, invitations and gas budgets. The
rules are in service.py."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from backend.accounts.deps import CurrentUser
from backend.organizations import service
from backend.organizations.models import OrganizationStatus
from backend.organizations.schemas import (
    GasBudgetUpdate,
    InvitationCreate,
    InvitationPublic,
    OrganizationCreate,
    OrganizationPublic,
    SuspensionCreate,
)
from backend.platform.http import DbId, SessionDep, SettingsDep, errors

router = APIRouter(tags=["organizations"])


@router.post("/organizations", response_model=OrganizationPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(429))
def create_organization(body: OrganizationCreate, request: Request, session: SessionDep, user: CurrentUser):
    """Creates a pending organization owned by the caller: it may draft events; its issuer key is registered on
    chain, and its badges can be claimed, once a steward approves it."""
    return service.create_organization(session=session, vault=request.app.state.vault, user=user,
                                       name_ja=body.name_ja, name_en=body.name_en)


@router.get("/organizations/{organization_id}", response_model=OrganizationPublic, responses=errors(403))
def get_organization(organization_id: DbId, session: SessionDep, user: CurrentUser):
    return service.get_organization(session=session, user=user, organization_id=organization_id)


@router.get("/me/organizations", response_model=list[OrganizationPublic])
def my_organizations(session: SessionDep, user: CurrentUser):
    return service.organizations_of(session=session, user=user)


@router.put("/organizations/{organization_id}/gas-budget", response_model=OrganizationPublic, responses=errors(403))
def set_gas_budget(organization_id: DbId, body: GasBudgetUpdate, session: SessionDep, settings: SettingsDep,
                   user: CurrentUser):
    """The sponsor (the city, which pays the gas) sets how much gas an organization's badges may use."""
    return service.set_gas_budget(session=session, user=user, organization_id=organization_id,
                                  gas_budget=body.gas_budget, sponsor_emails=settings.sponsor_emails)


@router.post("/organizations/{organization_id}/invitations", response_model=InvitationPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(403))
def invite(organization_id: DbId, body: InvitationCreate, session: SessionDep, settings: SettingsDep,
           user: CurrentUser):
    """An invitation link for a co-organizer (owners only); the token is shown once."""
    return service.invite(session=session, user=user, organization_id=organization_id, role=body.role,
                          base_url=settings.public_base_url)


@router.post("/invitations/{token}/accept", response_model=OrganizationPublic, responses=errors(410))
def accept_invitation(token: str, session: SessionDep, user: CurrentUser):
    return service.accept_invitation(session=session, user=user, token=token)


@router.get("/stewards/organizations", response_model=list[OrganizationPublic], responses=errors(403))
def organizations_for_stewards(session: SessionDep, user: CurrentUser, status: OrganizationStatus | None = None):
    """Every organization (of `status`, e.g. `pending`), for the community's stewards."""
    return service.organizations_by_status(session=session, user=user, status=status)


@router.post("/organizations/{organization_id}/approve", response_model=OrganizationPublic, responses=errors(403, 409))
def approve_organization(organization_id: DbId, session: SessionDep, user: CurrentUser):
    """A steward lets the organization issue: the relayer registers it on chain and makes its key an issuer."""
    return service.approve_organization(session=session, user=user, organization_id=organization_id)


@router.post("/organizations/{organization_id}/suspend", response_model=OrganizationPublic, responses=errors(403))
def suspend_organization(organization_id: DbId, body: SuspensionCreate, session: SessionDep, user: CurrentUser):
    """A steward stops the organization: its key loses the issuer role on chain; its queued claims fail with the
    reason."""
    return service.suspend_organization(session=session, user=user, organization_id=organization_id,
                                        reason=body.reason)
