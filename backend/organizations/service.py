"""The rules of organizations: who belongs to which, with which role; co-organizers join by invitation; the sponsor
(the city, which pays the gas) sets each one's gas budget; the community's stewards decide which may issue.

Owners manage who belongs: they invite co-organizers, revoke an invitation not yet accepted, and remove a member (the
last owner stays); a removed member is refused (403) on the organization's routes from their next request. Members
hold no role on chain: the organization acts there only through its issuer key, which the backend holds and signs
with for what its members ask through the API, so a removal needs no transaction.

An organization starts pending: its organizers may draft events, but nothing of it reaches the chain (no registration,
no issuer key, no sponsor gas) and nobody can claim its badges until a steward approves it. A steward may suspend it:
its issuer key loses the role on chain and its queued claims fail with the reason. What it may issue once approved is
capped by the badge contract (points per event, points per organization per period), which governance sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from backend.accounts.models import User
from backend.organizations.allowance import storable
from backend.organizations.models import Invitation, Membership, Organization, OrganizationStatus, Role
from backend.organizations.schemas import InvitationPublic, MemberPublic, PendingInvitationPublic
from backend.platform import rate_limits, throttle
from backend.platform.errors import Conflict, Forbidden, Gone, NotFound
from backend.platform.keys import KeyVault
from backend.platform.orm import utcnow
from backend.platform.paging import DEFAULT_LIMIT, Paged, page_of, page_of_rows
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


def refuse_unless_verified(user: User) -> None:
    """The roles that issue badges or spend the sponsor's gas (founding or joining an organization as an organizer,
    steward, sponsor) need an address its owner has confirmed: 403 `email_not_verified` otherwise."""
    if not user.verified:
        raise Forbidden("email_not_verified")


def create_organization(*, session: Session, vault: KeyVault, user: User, name_ja: str, name_en: str) -> Organization:
    """A pending organization owned by `user` (whose address is verified), with a new issuer key (sealed); the
    relayer registers it on chain once a steward approves it. Limited per account (backend/platform/rate_limits.py):
    429 beyond it."""
    refuse_unless_verified(user)
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


def organizations_of(*, session: Session, user: User, limit: int = DEFAULT_LIMIT,
                     offset: int = 0) -> Paged[Organization]:
    """The user's organizations, oldest first, a page of `limit` from `offset`."""
    return page_of(session, select(Organization).join(Membership).where(Membership.user_id == user.id)
                   .order_by(Organization.id), limit=limit, offset=offset)


def organizations_by_id(*, session: Session, ids: Iterable[int] | None = None) -> dict[int, Organization]:
    """The organizations of `ids` by id (every one if None): pages name the organization behind each event and perk
    they list, and read only those."""
    query = select(Organization)
    if ids is not None:
        query = query.where(Organization.id.in_(set(ids)))
    return {o.id: o for o in session.scalars(query).all()}


def is_sponsor(user: User | None) -> bool:
    """Whether the user is one of the sponsor's accounts (given by an operator: `kyoso sponsor set`) with a verified
    address: an account that merely carries a sponsor's address, unconfirmed, has no power."""
    return user is not None and user.is_sponsor and user.verified


def set_gas_budget(*, session: Session, user: User, organization_id: int, gas_budget: int) -> Organization:
    """The sponsor sets how much gas an organization's badges may use; nobody else may (not even its owners)."""
    if not is_sponsor(user):
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
    token_hash = secret_hash(token)
    session.add(Invitation(token_hash=token_hash, organization_id=organization_id, role=role, expires_at=expires_at))
    session.commit()
    return InvitationPublic(id=token_hash, token=token, url=f"{base_url}/invitations/{token}", role=role,
                            expires_at=expires_at)


def accept_invitation(*, session: Session, user: User, token: str) -> Organization:
    """Joins the organization with the invitation's role (once; a member keeps the role they already have). An
    invitation revoked, expired or accepted, also a moment ago by another request, is gone (410)."""
    token_hash = secret_hash(token)
    invitation = session.get(Invitation, token_hash)
    if invitation is None or invitation.accepted_by is not None or invitation.expires_at < utcnow():
        raise Gone("invitation_invalid")
    refuse_unless_verified(user)  # every role of an organization issues its badges
    organization_id, role = invitation.organization_id, invitation.role
    # one conditional UPDATE: what was read above may have been revoked or accepted since
    taken = session.execute(update(Invitation).where(
        Invitation.token_hash == token_hash, Invitation.accepted_by.is_(None), Invitation.expires_at >= utcnow(),
    ).values(accepted_by=user.id).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        session.rollback()
        raise Gone("invitation_invalid")
    existing = session.scalar(select(Membership).where(
        Membership.organization_id == organization_id, Membership.user_id == user.id))
    if existing is None:
        session.add(Membership(organization_id=organization_id, user_id=user.id, role=role))
    session.commit()
    return session.get(Organization, organization_id)


def pending_invitations(*, session: Session, user: User, organization_id: int, limit: int = DEFAULT_LIMIT,
                        offset: int = 0) -> Paged[PendingInvitationPublic]:
    """The organization's invitations not yet accepted, revoked or expired, soonest to expire first (owners only), a
    page of `limit` from `offset`; their tokens are not stored, so only their ids are shown."""
    membership_of(session=session, user=user, organization_id=organization_id, roles=(Role.owner,))
    return page_of(session, select(Invitation).where(
        Invitation.organization_id == organization_id, Invitation.accepted_by.is_(None),
        Invitation.expires_at >= utcnow()).order_by(Invitation.expires_at, Invitation.token_hash),
        limit=limit, offset=offset).map(
        lambda row: PendingInvitationPublic(id=row.token_hash, role=row.role, expires_at=row.expires_at))


def revoke_invitation(*, session: Session, user: User, organization_id: int, invitation_id: str) -> None:
    """An owner withdraws an invitation not yet accepted: it expires now, and accepting it is gone (410). Revoking
    one already revoked or expired changes nothing; one already accepted is a conflict (remove the member instead)."""
    membership_of(session=session, user=user, organization_id=organization_id, roles=(Role.owner,))
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organization_id != organization_id:
        raise NotFound("invitation_not_found")
    now = utcnow()
    revoked = session.execute(update(Invitation).where(
        Invitation.token_hash == invitation_id, Invitation.accepted_by.is_(None), Invitation.expires_at >= now,
    ).values(expires_at=now - timedelta(seconds=1)).execution_options(synchronize_session=False))
    if revoked.rowcount != 1:
        session.rollback()
        if session.scalar(select(Invitation.accepted_by).where(Invitation.token_hash == invitation_id)) is not None:
            raise Conflict("invitation_already_accepted")
        return
    session.commit()


def members_of(*, session: Session, user: User, organization_id: int, limit: int = DEFAULT_LIMIT,
               offset: int = 0) -> Paged[MemberPublic]:
    """The organization's members with their roles, owners first (owners only), a page of `limit` from `offset`."""
    membership_of(session=session, user=user, organization_id=organization_id, roles=(Role.owner,))
    return page_of_rows(session, select(Membership, User).join(User, User.id == Membership.user_id).where(
        Membership.organization_id == organization_id).order_by(Membership.role != Role.owner, Membership.id),
        limit=limit, offset=offset).map(
        lambda row: MemberPublic(user_id=row[1].id, display_name=row[1].display_name, email=row[1].email,
                                 role=row[0].role))


def roles_of(*, session: Session, user: User) -> dict[int, Role]:
    """The user's role in each of their organizations, by organization id."""
    return dict(session.execute(select(Membership.organization_id, Membership.role)
                                .where(Membership.user_id == user.id)).tuples().all())


def remove_member(*, session: Session, user: User, organization_id: int, member_id: int) -> None:
    """An owner removes a member (an organizer, or another owner), or a member leaves: from the next request on, the
    removed member is refused (403) on the organization's routes. The last owner cannot be removed (409): an
    organization always has someone to manage it. Nothing is sent on chain: members hold no role there (the
    organization's issuer key, which the backend holds, signs everything the organization does)."""
    leaving = member_id == user.id
    own = membership_of(session=session, user=user, organization_id=organization_id,
                        roles=() if leaving else (Role.owner,))
    target = own if leaving else session.scalar(select(Membership).where(
        Membership.organization_id == organization_id, Membership.user_id == member_id))
    if target is None:
        raise NotFound("member_not_found")
    target_id = target.id
    # Two owners removing each other at once must not leave none: the organization's row is locked on PostgreSQL, and
    # the count is part of the DELETE itself, which SQLite runs under its single write lock.
    session.execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())
    owners = aliased(Membership)
    owner_count = select(func.count()).select_from(owners).where(
        owners.organization_id == organization_id, owners.role == Role.owner).scalar_subquery()
    removed = session.execute(delete(Membership).where(
        Membership.id == target_id, (Membership.role != Role.owner) | (owner_count > 1),
    ).execution_options(synchronize_session=False))
    if removed.rowcount != 1:
        session.rollback()
        if session.scalar(select(Membership.id).where(Membership.id == target_id)) is None:  # removed meanwhile
            raise NotFound("member_not_found")
        raise Conflict("last_owner", organization=session.get(Organization, organization_id).name_en)
    session.commit()


# ---------------------------------------------------------------------------------------------- stewards

def refuse_unless_issuing(status: OrganizationStatus, name: str) -> None:
    """Claims of a pending or suspended organization's events are refused before anything is stored."""
    if status == OrganizationStatus.pending:
        raise Conflict("organization_pending", organization=name)
    if status == OrganizationStatus.suspended:
        raise Forbidden("organization_suspended", organization=name)


def is_steward(user: User | None) -> bool:
    """Whether the user is one of the community's stewards (given by an operator: `kyoso steward add`) with a
    verified address."""
    return user is not None and user.is_steward and user.verified


def _steward(user: User) -> None:
    if not user.is_steward:
        raise Forbidden("not_a_steward")
    refuse_unless_verified(user)


def _organization(session: Session, organization_id: int) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("organization_not_found")
    return org


def organizations_by_status(*, session: Session, user: User, status: OrganizationStatus | None = None,
                            limit: int = DEFAULT_LIMIT, offset: int = 0) -> Paged[Organization]:
    """The organizations (of `status`, if given), oldest first, a page of `limit` from `offset`: the stewards'
    list."""
    _steward(user)
    query = select(Organization).order_by(Organization.id)
    if status is not None:
        query = query.where(Organization.status == status)
    return page_of(session, query, limit=limit, offset=offset)


def _set_status(session: Session, user: User | None, org: Organization, status: OrganizationStatus,
                reason: str | None) -> Organization:
    org.status, org.status_reason = status, reason
    org.status_changed_at, org.status_changed_by = utcnow(), user.id if user is not None else None
    session.commit()
    return org


def approve_organization(*, session: Session, user: User | None, organization_id: int) -> Organization:
    """A steward (None: the operator, `kyoso organizations approve`) lets a pending (or steward-suspended)
    organization issue: the relayer registers it on chain and grants its key the issuer role. An organization
    suspended on chain stays suspended: only governance lifts that."""
    if user is not None:
        _steward(user)
    org = _organization(session, organization_id)
    if org.suspended_on_chain:
        raise Conflict("organization_suspended_on_chain", organization=org.name_en)
    if org.status == OrganizationStatus.approved:
        return org
    return _set_status(session, user, org, OrganizationStatus.approved, None)


def suspend_organization(*, session: Session, user: User | None, organization_id: int, reason: str) -> Organization:
    """A steward (None: the operator, `kyoso organizations suspend`) stops an organization: the relayer revokes its
    key's issuer role on chain, and its queued claims fail with `reason`."""
    if user is not None:
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
