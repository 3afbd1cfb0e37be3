"""The rules of organizations: who belongs to which, with which role; co-organizers join by invitation; the sponsor
(the city, which pays the gas) sets each one's gas budget; the community's stewards decide which may issue.

An organization starts pending: its organizers may draft events, but nothing of it reaches the chain (no registration,
no issuer key, no sponsor gas) and nobody can claim its badges until a steward approves it. A steward may suspend it:
its issuer key loses the role on chain and its queued claims fail with the reason. What it may issue once approved is
capped by the badge contract (points per event, points per organization per period), which governance sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.organizations.allowance import storable
from backend.organizations.models import Invitation, Membership, Organization, OrganizationStatus, Role
from backend.organizations.schemas import InvitationPublic
from backend.platform import rate_limits, throttle
from backend.platform.errors import Conflict, Forbidden, Gone, NotFound
from backend.platform.keys import KeyVault
from backend.platform.orm import utcnow
from backend.platform.security import TOKEN_BYTES, new_secret, secret_hash

ORGANIZERS = (Role.owner, Role.organizer)
INVITATION_TTL = timedelta(days=7)


def membership_of(*, session: Session, user: User, organization_id: int, roles: tuple[Role, ...] = ()) -> Membership:
    """The user's membership of the organization (with one of `roles`, if given); never reveals whether another
    organization has data: 404 only for an organization that does not exist, 403 otherwise."""
    if session.get(Organization, organization_id) is None:
        raise NotFound("organization_not_found")
    membership = session.scalar(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user.id)
    )
    if membership is None or (roles and membership.role not in roles):
        raise Forbidden("not_an_organizer")
    return membership


def create_organization(*, session: Session, vault: KeyVault, user: User, name_ja: str, name_en: str) -> Organization:
    """A pending organization owned by `user`, with a new issuer key (sealed); the relayer registers it on chain once
    a steward approves it. Limited per account (backend/platform/rate_limits.py): 429 beyond it."""
    throttle.take(session, rate_limits.organizations(user_id=user.id))  # committed with the organization
    sealed = vault.create()
    org = Organization(name_ja=name_ja, name_en=name_en, issuer_address=sealed.address, issuer_key=sealed.ciphertext)
    org.memberships.append(Membership(user_id=user.id, role=Role.owner))
    session.add(org)
    session.commit()
    return org


def get_organization(*, session: Session, user: User, organization_id: int) -> Organization:
    """The organization, for its members only."""
    membership_of(session=session, user=user, organization_id=organization_id)
    return session.get(Organization, organization_id)


def organizations_of(*, session: Session, user: User) -> Sequence[Organization]:
    return session.scalars(
        select(Organization).join(Membership).where(Membership.user_id == user.id).order_by(Organization.id)
    ).all()


def organizations_by_id(*, session: Session) -> dict[int, Organization]:
    """Every organization by id: pages name the organization behind each event and perk they list."""
    return {o.id: o for o in session.scalars(select(Organization)).all()}


def is_sponsor(user: User, sponsor_emails: str) -> bool:
    """Whether the user is one of the sponsor's accounts (`sponsor_emails`: the setting, comma-separated)."""
    sponsors = {e.strip().lower() for e in sponsor_emails.split(",") if e.strip()}
    return user.email is not None and user.email in sponsors


def set_gas_budget(*, session: Session, user: User, organization_id: int, gas_budget: int,
                   sponsor_emails: str) -> Organization:
    """The sponsor sets how much gas an organization's badges may use; nobody else may (not even its owners)."""
    if not is_sponsor(user, sponsor_emails):
        raise Forbidden("not_sponsor")
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("organization_not_found")
    org.gas_budget = gas_budget
    session.commit()
    return org


def invite(*, session: Session, user: User, organization_id: int, role: Role, base_url: str) -> InvitationPublic:
    """An invitation link for a co-organizer (owners only), valid for INVITATION_TTL; the token is shown once and
    only its hash is stored."""
    membership_of(session=session, user=user, organization_id=organization_id, roles=(Role.owner,))
    token = new_secret(TOKEN_BYTES)
    expires_at = utcnow() + INVITATION_TTL
    session.add(Invitation(token_hash=secret_hash(token), organization_id=organization_id, role=role,
                           expires_at=expires_at))
    session.commit()
    return InvitationPublic(token=token, url=f"{base_url}/invitations/{token}", role=role, expires_at=expires_at)


def accept_invitation(*, session: Session, user: User, token: str) -> Organization:
    """Joins the organization with the invitation's role (once; a member keeps the role they already have)."""
    invitation = session.get(Invitation, secret_hash(token))
    if invitation is None or invitation.accepted_by is not None or invitation.expires_at < utcnow():
        raise Gone("invitation_invalid")
    existing = session.scalar(select(Membership).where(
        Membership.organization_id == invitation.organization_id, Membership.user_id == user.id))
    if existing is None:
        session.add(Membership(organization_id=invitation.organization_id, user_id=user.id, role=invitation.role))
    invitation.accepted_by = user.id
    session.commit()
    return session.get(Organization, invitation.organization_id)


# ---------------------------------------------------------------------------------------------- stewards

def refuse_unless_issuing(status: OrganizationStatus, name: str) -> None:
    """Claims of a pending or suspended organization's events are refused before anything is stored."""
    if status == OrganizationStatus.pending:
        raise Conflict("organization_pending", organization=name)
    if status == OrganizationStatus.suspended:
        raise Forbidden("organization_suspended", organization=name)


def _steward(user: User) -> None:
    if not user.is_steward:
        raise Forbidden("not_a_steward")


def _organization(session: Session, organization_id: int) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("organization_not_found")
    return org


def organizations_by_status(*, session: Session, user: User,
                            status: OrganizationStatus | None = None) -> Sequence[Organization]:
    """Every organization (of `status`, if given), oldest first: the stewards' list."""
    _steward(user)
    query = select(Organization).order_by(Organization.id)
    if status is not None:
        query = query.where(Organization.status == status)
    return session.scalars(query).all()


def _set_status(session: Session, user: User, org: Organization, status: OrganizationStatus,
                reason: str | None) -> Organization:
    org.status, org.status_reason = status, reason
    org.status_changed_at, org.status_changed_by = utcnow(), user.id
    session.commit()
    return org


def approve_organization(*, session: Session, user: User, organization_id: int) -> Organization:
    """A steward lets a pending (or steward-suspended) organization issue: the relayer registers it on chain and
    grants its key the issuer role. An organization suspended on chain stays suspended: only governance lifts that."""
    _steward(user)
    org = _organization(session, organization_id)
    if org.suspended_on_chain:
        raise Conflict("organization_suspended_on_chain", organization=org.name_en)
    if org.status == OrganizationStatus.approved:
        return org
    return _set_status(session, user, org, OrganizationStatus.approved, None)


def suspend_organization(*, session: Session, user: User, organization_id: int, reason: str) -> Organization:
    """A steward stops an organization: the relayer revokes its key's issuer role on chain, and its queued claims
    fail with `reason`."""
    _steward(user)
    org = _organization(session, organization_id)
    return _set_status(session, user, org, OrganizationStatus.suspended, reason)


def suspended_on_chain(*, session: Session, chain_id: int, suspended: bool) -> None:
    """The indexer saw the guardian or governance suspend (or governance resume) the organization on chain."""
    org = session.scalar(select(Organization).where(Organization.chain_id == chain_id))
    if org is None:
        return
    org.suspended_on_chain = suspended
    if suspended and org.status != OrganizationStatus.suspended:
        org.status, org.status_reason = OrganizationStatus.suspended, "suspended on chain"
        org.status_changed_at, org.status_changed_by = utcnow(), None


def set_points_allowance(*, session: Session, chain_id: int, allowance: int | None) -> None:
    """The indexer saw governance set the organization's own allowance (None: back to the default)."""
    org = session.scalar(select(Organization).where(Organization.chain_id == chain_id))
    if org is not None:
        org.points_allowance = None if allowance is None else storable(allowance)


def chain_id_of(*, session: Session, organization_id: int) -> int:
    """The organization's id on chain, for a proposal about it; it must be registered there."""
    org = _organization(session, organization_id)
    if org.chain_id is None:
        raise Conflict("organization_not_on_chain", organization=org.name_en)
    return org.chain_id
