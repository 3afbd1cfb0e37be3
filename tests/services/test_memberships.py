"""The rules of who belongs to an organization once they joined: owners see the members and the invitations waiting,
remove a member (who is refused on the organization's routes at once), and revoke an invitation (which can no longer
be accepted); the last owner cannot be removed; members may leave; nobody else may do any of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.events import service as events
from backend.events.schemas import EventCreate
from backend.organizations import service as organizations
from backend.organizations.models import Invitation, Membership, Organization, Role
from backend.platform.db import session_factory
from backend.platform.errors import Conflict, Forbidden, Gone, NotFound
from backend.platform.orm import utcnow
from tests.services.factories import make_event, make_organization, make_user

BASE_URL = "https://kyoso.example"


def verified(session, user):
    """The account's e-mail address is proven: roles of an organization need it (accounts' e-mail verification)."""
    if hasattr(user, "email_verified_at"):
        user.email_verified_at = utcnow()
        session.commit()
    return user


def member(session, org: Organization, role: Role = Role.organizer):
    return verified(session, make_user(session, organization=org, role=role))


def roles(session, org: Organization) -> dict[int, Role]:
    return {m.user_id: m.role for m in session.scalars(select(Membership).where(
        Membership.organization_id == org.id)).all()}


def event_body() -> EventCreate:
    now = utcnow()
    return EventCreate(title_ja="清掃", title_en="Clean-up", category="cleanup", starts_at=now,
                       ends_at=now + timedelta(hours=2), claim_start=now, claim_end=now + timedelta(hours=3), points=5)


# ---------------------------------------------------------------------------------------------------- members


def test_an_owner_removes_an_organizer_who_is_refused_at_once(session):
    org = make_organization(session)
    owner, organizer = member(session, org, Role.owner), member(session, org)
    event = make_event(session, org)
    assert events.organizer_event(session=session, user=organizer, event_id=event.id, roles=organizations.ORGANIZERS)

    organizations.remove_member(session=session, user=owner, organization_id=org.id, member_id=organizer.id)

    assert roles(session, org) == {owner.id: Role.owner}
    for refused_step in (
        lambda: events.create_event(session=session, user=organizer, organization_id=org.id, body=event_body()),
        lambda: events.organizer_event(session=session, user=organizer, event_id=event.id,
                                       roles=organizations.ORGANIZERS),
        lambda: organizations.get_organization(session=session, user=organizer, organization_id=org.id),
    ):
        with pytest.raises(Forbidden) as refused:
            refused_step()
        assert refused.value.code == "not_an_organizer" and refused.value.status == 403


def test_an_owner_may_remove_another_owner_but_never_the_last_one(session):
    org = make_organization(session)
    first, second = member(session, org, Role.owner), member(session, org, Role.owner)
    organizations.remove_member(session=session, user=first, organization_id=org.id, member_id=second.id)
    with pytest.raises(Conflict) as refused:
        organizations.remove_member(session=session, user=first, organization_id=org.id, member_id=first.id)
    assert refused.value.code == "last_owner" and refused.value.status == 409
    assert refused.value.params == {"organization": org.name_en}
    assert roles(session, org) == {first.id: Role.owner}


def test_a_member_may_leave_but_an_organizer_removes_nobody_else(session):
    org = make_organization(session)
    owner, organizer, other = member(session, org, Role.owner), member(session, org), member(session, org)
    with pytest.raises(Forbidden, match="not_an_organizer"):
        organizations.remove_member(session=session, user=organizer, organization_id=org.id, member_id=other.id)
    with pytest.raises(Forbidden, match="not_an_organizer"):
        organizations.remove_member(session=session, user=organizer, organization_id=org.id, member_id=owner.id)
    organizations.remove_member(session=session, user=organizer, organization_id=org.id, member_id=organizer.id)
    assert roles(session, org) == {owner.id: Role.owner, other.id: Role.organizer}


def test_removing_someone_who_is_not_a_member_is_not_found_and_another_organizations_owner_is_refused(session):
    org, elsewhere = make_organization(session), make_organization(session)
    owner, outsider = member(session, org, Role.owner), member(session, elsewhere, Role.owner)
    with pytest.raises(NotFound) as refused:
        organizations.remove_member(session=session, user=owner, organization_id=org.id, member_id=outsider.id)
    assert refused.value.code == "member_not_found" and refused.value.status == 404
    with pytest.raises(Forbidden):
        organizations.remove_member(session=session, user=outsider, organization_id=org.id, member_id=owner.id)
    with pytest.raises(NotFound, match="organization_not_found"):
        organizations.remove_member(session=session, user=owner, organization_id=999_999, member_id=owner.id)


def test_owners_see_the_members_owners_first_and_organizers_may_not(session):
    org = make_organization(session)
    organizer = member(session, org)
    owner = member(session, org, Role.owner)
    listed = organizations.members_of(session=session, user=owner, organization_id=org.id)
    assert [(m.user_id, m.role) for m in listed] == [(owner.id, Role.owner), (organizer.id, Role.organizer)]
    assert listed[1].email == organizer.email
    with pytest.raises(Forbidden):
        organizations.members_of(session=session, user=organizer, organization_id=org.id)
    assert organizations.roles_of(session=session, user=owner) == {org.id: Role.owner}


# ---------------------------------------------------------------------------------------------------- invitations


def test_a_revoked_invitation_cannot_be_accepted_and_no_longer_waits(session):
    org = make_organization(session)
    owner = member(session, org, Role.owner)
    invitation = organizations.invite(session=session, user=owner, organization_id=org.id, role=Role.organizer,
                                      base_url=BASE_URL)
    kept = organizations.invite(session=session, user=owner, organization_id=org.id, role=Role.owner,
                                base_url=BASE_URL)
    waiting = organizations.pending_invitations(session=session, user=owner, organization_id=org.id)
    assert {(w.id, w.role) for w in waiting} == {(invitation.id, Role.organizer), (kept.id, Role.owner)}

    organizations.revoke_invitation(session=session, user=owner, organization_id=org.id, invitation_id=invitation.id)
    organizations.revoke_invitation(session=session, user=owner, organization_id=org.id, invitation_id=invitation.id)

    assert [w.id for w in organizations.pending_invitations(session=session, user=owner,
                                                            organization_id=org.id)] == [kept.id]
    invited = verified(session, make_user(session))
    with pytest.raises(Gone) as refused:
        organizations.accept_invitation(session=session, user=invited, token=invitation.token)
    assert refused.value.code == "invitation_invalid" and refused.value.status == 410
    assert invited.id not in roles(session, org)
    organizations.accept_invitation(session=session, user=invited, token=kept.token)  # the other still works
    assert roles(session, org)[invited.id] == Role.owner


def test_only_owners_revoke_and_only_their_own_organizations_invitations(session):
    org, elsewhere = make_organization(session), make_organization(session)
    owner, organizer = member(session, org, Role.owner), member(session, org)
    other_owner = member(session, elsewhere, Role.owner)
    invitation = organizations.invite(session=session, user=owner, organization_id=org.id, role=Role.organizer,
                                      base_url=BASE_URL)
    with pytest.raises(Forbidden):
        organizations.revoke_invitation(session=session, user=organizer, organization_id=org.id,
                                        invitation_id=invitation.id)
    with pytest.raises(Forbidden):
        organizations.pending_invitations(session=session, user=organizer, organization_id=org.id)
    with pytest.raises(NotFound) as refused:  # another organization's invitation, named through one's own
        organizations.revoke_invitation(session=session, user=other_owner, organization_id=elsewhere.id,
                                        invitation_id=invitation.id)
    assert refused.value.code == "invitation_not_found"
    assert session.get(Invitation, invitation.id).expires_at > utcnow()


def test_an_accepted_invitation_is_not_revoked_the_member_is_removed_instead(session):
    org = make_organization(session)
    owner = member(session, org, Role.owner)
    invitation = organizations.invite(session=session, user=owner, organization_id=org.id, role=Role.organizer,
                                      base_url=BASE_URL)
    joined = verified(session, make_user(session))
    organizations.accept_invitation(session=session, user=joined, token=invitation.token)
    with pytest.raises(Conflict) as refused:
        organizations.revoke_invitation(session=session, user=owner, organization_id=org.id,
                                        invitation_id=invitation.id)
    assert refused.value.code == "invitation_already_accepted"
    assert organizations.pending_invitations(session=session, user=owner, organization_id=org.id) == []
    organizations.remove_member(session=session, user=owner, organization_id=org.id, member_id=joined.id)
    with pytest.raises(Gone):  # and the used invitation does not bring them back
        organizations.accept_invitation(session=session, user=joined, token=invitation.token)
    assert joined.id not in roles(session, org)


def test_an_invitation_revoked_after_it_was_read_is_not_accepted(session, engine):
    """The accept reads the invitation, then takes it with one conditional UPDATE: a revocation committed in between
    (another request) wins."""
    org = make_organization(session)
    owner = member(session, org, Role.owner)
    invitation = organizations.invite(session=session, user=owner, organization_id=org.id, role=Role.organizer,
                                      base_url=BASE_URL)
    invited = verified(session, make_user(session))
    accepting = session_factory(engine)()
    accepting.get(Invitation, invitation.id)  # what the accept read first, still in its session
    organizations.revoke_invitation(session=session, user=owner, organization_id=org.id, invitation_id=invitation.id)
    with pytest.raises(Gone):
        organizations.accept_invitation(session=accepting, user=accepting.get(type(invited), invited.id),
                                        token=invitation.token)
    accepting.close()
    assert invited.id not in roles(session, org)
