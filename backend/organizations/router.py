"""Organizations over HTTP (the city, shops, universities, NPOs): their members, invitations and gas budgets. The
rules are in service.py."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from backend.accounts.deps import CurrentUser
from backend.organizations import service
from backend.organizations.schemas import (
    GasBudgetUpdate,
    InvitationCreate,
    InvitationPublic,
    OrganizationCreate,
    OrganizationPublic,
)
from backend.platform.http import DbId, SessionDep, SettingsDep, errors

router = APIRouter(tags=["organizations"])


@router.post("/organizations", response_model=OrganizationPublic, status_code=status.HTTP_201_CREATED)
def create_organization(body: OrganizationCreate, request: Request, session: SessionDep, user: CurrentUser):
    """Creates an organization owned by the caller; its issuer key is created and registered on chain by the
    relayer."""
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
