"""Organizations (the city, shops, universities, NPOs), their members, and their issuer keys on chain."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.errors import errors
from backend.platform.security import TOKEN_BYTES, new_secret, secret_hash
from backend.api.deps import CurrentUser, DbId, SessionDep, SettingsDep
from backend.accounts.models import User
from backend.organizations.models import Invitation, Membership, Organization, Role
from backend.platform.orm import utcnow
from backend.organizations.schemas import GasBudgetUpdate, InvitationCreate, InvitationPublic, OrganizationCreate, OrganizationPublic

router = APIRouter(tags=["organizations"])

INVITATION_TTL = timedelta(days=7)


def membership_of(session: Session, user: User, organization_id: int, *roles: Role) -> Membership:
    """The user's membership of the organization, or 404/403 (never reveals another organization's data)."""
    if session.get(Organization, organization_id) is None:
        raise HTTPException(404, {"error": "organization_not_found", "message": "No such organization."})
    membership = session.scalar(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user.id)
    )
    if membership is None or (roles and membership.role not in roles):
        raise HTTPException(403, {"error": "not_an_organizer",
                                  "message": "You are not an organizer of this organization. / "
                                             "この団体の運営者ではありません。"})
    return membership


@router.post("/organizations", response_model=OrganizationPublic, status_code=status.HTTP_201_CREATED)
def create_organization(body: OrganizationCreate, request: Request, session: SessionDep, user: CurrentUser):
    """Creates an organization owned by the caller; its issuer key is created and registered on chain by the
    relayer."""
    sealed = request.app.state.vault.create()
    org = Organization(name_ja=body.name_ja, name_en=body.name_en, issuer_address=sealed.address,
                       issuer_key=sealed.ciphertext)
    org.memberships.append(Membership(user_id=user.id, role=Role.owner))
    session.add(org)
    session.commit()
    return org


@router.get("/organizations/{organization_id}", response_model=OrganizationPublic, responses=errors(403))
def get_organization(organization_id: DbId, session: SessionDep, user: CurrentUser):
    membership_of(session, user, organization_id)
    return session.get(Organization, organization_id)


@router.get("/me/organizations", response_model=list[OrganizationPublic])
def my_organizations(session: SessionDep, user: CurrentUser):
    return session.scalars(
        select(Organization).join(Membership).where(Membership.user_id == user.id).order_by(Organization.id)
    ).all()


@router.put("/organizations/{organization_id}/gas-budget", response_model=OrganizationPublic, responses=errors(403))
def set_gas_budget(organization_id: DbId, body: GasBudgetUpdate, session: SessionDep, settings: SettingsDep,
                   user: CurrentUser):
    """The sponsor (the city, which pays the gas) sets how much gas an organization's badges may use."""
    sponsors = {e.strip().lower() for e in settings.sponsor_emails.split(",") if e.strip()}
    if user.email is None or user.email not in sponsors:
        raise HTTPException(403, {"error": "not_sponsor", "message": "Only the sponsor sets gas budgets."})
    org = session.get(Organization, organization_id)
    if org is None:
        raise HTTPException(404, {"error": "organization_not_found", "message": "No such organization."})
    org.gas_budget = body.gas_budget
    session.commit()
    return org


@router.post("/organizations/{organization_id}/invitations", response_model=InvitationPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(403))
def invite(organization_id: DbId, body: InvitationCreate, session: SessionDep, settings: SettingsDep,
           user: CurrentUser):
    """An invitation link for a co-organizer (owners only); the token is shown once."""
    membership_of(session, user, organization_id, Role.owner)
    token = new_secret(TOKEN_BYTES)
    expires_at = utcnow() + INVITATION_TTL
    session.add(Invitation(token_hash=secret_hash(token), organization_id=organization_id, role=body.role,
                           expires_at=expires_at))
    session.commit()
    return InvitationPublic(token=token, url=f"{settings.public_base_url}/invitations/{token}", role=body.role,
                            expires_at=expires_at)


@router.post("/invitations/{token}/accept", response_model=OrganizationPublic, responses=errors(410))
def accept_invitation(token: str, session: SessionDep, user: CurrentUser):
    invitation = session.get(Invitation, secret_hash(token))
    if invitation is None or invitation.accepted_by is not None or invitation.expires_at < utcnow():
        raise HTTPException(410, {"error": "invitation_invalid",
                                  "message": "This invitation is unknown, used or expired. / 招待は無効です。"})
    existing = session.scalar(select(Membership).where(
        Membership.organization_id == invitation.organization_id, Membership.user_id == user.id))
    if existing is None:
        session.add(Membership(organization_id=invitation.organization_id, user_id=user.id, role=invitation.role))
    invitation.accepted_by = user.id
    session.commit()
    return session.get(Organization, invitation.organization_id)
