"""Organizations over HTTP (the city, shops, universities, NPOs): their members, invitations and gas budgets. The
rules are in service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from backend.accounts.deps import CurrentUser
from backend.organizations import service
from backend.organizations.models import OrganizationStatus
from backend.organizations.schemas import (
    GasBudgetUpdate,
    InvitationCreate,
    InvitationPublic,
    MemberPublic,
    OrganizationCreate,
    OrganizationPublic,
    PendingInvitationPublic,
    SuspensionCreate,
)
from backend.platform.http import PAGED, DbId, Limit, Page, SessionDep, SettingsDep, errors, paged
from backend.platform.paging import DEFAULT_LIMIT

router = APIRouter(tags=["organizations"])
InvitationId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="an invitation's id (as invite answered)")]


@router.post("/organizations", response_model=OrganizationPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403, 429))
def create_organization(body: OrganizationCreate, request: Request, session: SessionDep, user: CurrentUser):
    """Creates a pending organization owned by the caller, whose address must be verified (403
    `email_not_verified`): it may draft events; its issuer key is registered on chain, and its badges can be claimed,
    once a steward approves it."""
    return service.create_organization(session=session, vault=request.app.state.vault, user=user,
                                       name_ja=body.name_ja, name_en=body.name_en)


@router.get("/organizations/{organization_id}", response_model=OrganizationPublic, responses=errors(403))
def get_organization(organization_id: DbId, session: SessionDep, user: CurrentUser):
    return service.get_organization(session=session, user=user, organization_id=organization_id)


@router.get("/me/organizations", response_model=list[OrganizationPublic], responses=PAGED)
def my_organizations(session: SessionDep, response: Response, user: CurrentUser, limit: Limit = DEFAULT_LIMIT,
                     offset: Page = 0):
    return paged(response, service.organizations_of(session=session, user=user, limit=limit, offset=offset))


@router.put("/organizations/{organization_id}/gas-budget", response_model=OrganizationPublic, responses=errors(403))
def set_gas_budget(organization_id: DbId, body: GasBudgetUpdate, session: SessionDep, user: CurrentUser):
    """The sponsor (the city, which pays the gas) sets how much gas an organization's badges may use."""
    return service.set_gas_budget(session=session, user=user, organization_id=organization_id,
                                  gas_budget=body.gas_budget)


@router.post("/organizations/{organization_id}/invitations", response_model=InvitationPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(403))
def invite(organization_id: DbId, body: InvitationCreate, session: SessionDep, settings: SettingsDep,
           user: CurrentUser):
    """An invitation link for a co-organizer (owners only); the token is shown once."""
    return service.invite(session=session, user=user, organization_id=organization_id, role=body.role,
                          base_url=settings.public_base_url)


@router.post("/invitations/{token}/accept", response_model=OrganizationPublic, responses=errors(403, 410))
def accept_invitation(token: str, session: SessionDep, user: CurrentUser):
    return service.accept_invitation(session=session, user=user, token=token)


@router.get("/organizations/{organization_id}/invitations", response_model=list[PendingInvitationPublic],
            responses={**PAGED, **errors(403)})
def pending_invitations(organization_id: DbId, session: SessionDep, response: Response, user: CurrentUser,
                        limit: Limit = DEFAULT_LIMIT, offset: Page = 0):
    """The invitations not yet accepted, revoked or expired (owners only)."""
    return paged(response, service.pending_invitations(session=session, user=user, organization_id=organization_id,
                                                       limit=limit, offset=offset))


@router.delete("/organizations/{organization_id}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=errors(403, 409))
def revoke_invitation(organization_id: DbId, invitation_id: InvitationId, session: SessionDep, user: CurrentUser):
    """Revokes an invitation not yet accepted (owners only): accepting it is gone (410) from now on."""
    service.revoke_invitation(session=session, user=user, organization_id=organization_id,
                              invitation_id=invitation_id)
    return Response(status_code=204)


@router.get("/organizations/{organization_id}/members", response_model=list[MemberPublic],
            responses={**PAGED, **errors(403)})
def members(organization_id: DbId, session: SessionDep, response: Response, user: CurrentUser,
            limit: Limit = DEFAULT_LIMIT, offset: Page = 0):
    """The organization's members and their roles (owners only)."""
    return paged(response, service.members_of(session=session, user=user, organization_id=organization_id,
                                              limit=limit, offset=offset))


@router.delete("/organizations/{organization_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=errors(403, 409))
def remove_member(organization_id: DbId, user_id: DbId, session: SessionDep, user: CurrentUser):
    """An owner removes a member, or a member leaves (their own id): the removed member is refused on the
    organization's routes from their next request. The last owner cannot be removed (409)."""
    service.remove_member(session=session, user=user, organization_id=organization_id, member_id=user_id)
    return Response(status_code=204)


@router.get("/stewards/organizations", response_model=list[OrganizationPublic], responses={**PAGED, **errors(403)})
def organizations_for_stewards(session: SessionDep, response: Response, user: CurrentUser,
                               status: OrganizationStatus | None = None, limit: Limit = DEFAULT_LIMIT,
                               offset: Page = 0):
    """The organizations (of `status`, e.g. `pending`), oldest first, for the community's stewards."""
    return paged(response, service.organizations_by_status(session=session, user=user, status=status, limit=limit,
                                                           offset=offset))


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
