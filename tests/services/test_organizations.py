"""The rules of organizations: membership and roles (never revealing another organization's data), invitations of
co-organizers (owners only, once, for a week), and gas budgets (set by the sponsor only)."""

from __future__ import annotations

import base64
import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.accounts.models import User
from backend.organizations import service as organizations
from backend.organizations.models import Invitation, Membership, Organization, Role
from backend.platform.errors import Forbidden, Gone, NotFound
from backend.platform.keys import KeyVault, SealedKey
from backend.platform.orm import utcnow
from backend.platform.security import secret_hash
from tests.services.factories import make_organization, make_user

BASE_URL = "https://kyoso.example"


def user(session, email: str | None = "", **kw) -> User:
    return make_user(session, email=email, **kw)


organization = make_organization


def member(session, org: Organization, role: Role) -> User:
    return make_user(session, organization=org, role=role)








# ---------------------------------------------------------------------------------------------------- membership


def test_membership_of_an_organization_that_does_not_exist_is_not_found(session):
    with pytest.raises(NotFound) as refused:
        organizations.membership_of(session=session, user=user(session), organization_id=999)
    assert refused.value.code == "organization_not_found" and refused.value.status == 404


def test_membership_of_another_organization_is_forbidden(session):
    mine, theirs = organization(session), organization(session)
    organizer = member(session, mine, Role.organizer)
    with pytest.raises(Forbidden) as refused:
        organizations.membership_of(session=session, user=organizer, organization_id=theirs.id)
    assert refused.value.code == "not_an_organizer" and refused.value.status == 403
    assert organizations.membership_of(session=session, user=organizer, organization_id=mine.id).role == Role.organizer


@pytest.mark.parametrize("role, roles, allowed", [
    (Role.owner, (Role.owner,), True),
    (Role.organizer, (Role.owner,), False),
    (Role.organizer, organizations.ORGANIZERS, True),
    (Role.owner, organizations.ORGANIZERS, True),
    (Role.organizer, (), True),
])
def test_membership_of_with_roles_admits_only_those_roles(session, role, roles, allowed):
    org = organization(session)
    someone = member(session, org, role)
    if allowed:
        assert organizations.membership_of(session=session, user=someone, organization_id=org.id, roles=roles)
    else:
        with pytest.raises(Forbidden, match="not_an_organizer"):
            organizations.membership_of(session=session, user=someone, organization_id=org.id, roles=roles)


def test_creating_an_organization_makes_the_creator_its_owner_with_a_sealed_issuer_key(session):
    vault = KeyVault(base64.b64encode(os.urandom(32)).decode())
    founder = user(session)
    org = organizations.create_organization(session=session, vault=vault, user=founder, name_ja="金沢市",
                                            name_en="Kanazawa City")
    assert not org.registered and org.chain_id is None  # the relayer registers it on chain
    assert vault.open(SealedKey(org.issuer_address, org.issuer_key)).address == org.issuer_address
    assert organizations.membership_of(session=session, user=founder, organization_id=org.id).role == Role.owner


def test_an_organization_is_shown_to_its_members_only(session):
    org = organization(session)
    assert organizations.get_organization(session=session, user=member(session, org, Role.organizer),
                                          organization_id=org.id).id == org.id
    with pytest.raises(Forbidden):
        organizations.get_organization(session=session, user=user(session), organization_id=org.id)


def test_my_organizations_lists_only_the_members_own_in_order(session):
    first, _, third = organization(session), organization(session), organization(session)
    someone = member(session, third, Role.organizer)
    session.add(Membership(organization_id=first.id, user_id=someone.id, role=Role.owner))
    session.commit()
    assert [o.id for o in organizations.organizations_of(session=session, user=someone)] == [first.id, third.id]


def test_every_organization_by_id(session):
    orgs = [organization(session), organization(session)]
    assert organizations.organizations_by_id(session=session) == {o.id: o for o in orgs}


# ---------------------------------------------------------------------------------------------------- invitations


def invite(session, org: Organization, role: Role = Role.organizer, by: User | None = None):
    return organizations.invite(session=session, user=by or member(session, org, Role.owner), organization_id=org.id,
                                role=role, base_url=BASE_URL)


def test_only_owners_invite(session):
    org = organization(session)
    with pytest.raises(Forbidden, match="not_an_organizer"):
        invite(session, org, by=member(session, org, Role.organizer))
    assert session.scalars(select(Invitation)).all() == []


def test_an_invitation_is_a_link_valid_for_a_week_and_only_its_hash_is_stored(session):
    invitation = invite(session, organization(session))
    assert invitation.url == f"{BASE_URL}/invitations/{invitation.token}"
    stored = session.get(Invitation, secret_hash(invitation.token))
    assert stored is not None and session.get(Invitation, invitation.token) is None
    assert abs(stored.expires_at - utcnow() - timedelta(days=7)) < timedelta(seconds=5)


def test_accepting_an_invitation_joins_with_its_role_once(session):
    org = organization(session)
    invitation = invite(session, org, role=Role.owner)
    helper = user(session)
    assert organizations.accept_invitation(session=session, user=helper, token=invitation.token).id == org.id
    assert organizations.membership_of(session=session, user=helper, organization_id=org.id).role == Role.owner
    with pytest.raises(Gone) as again:
        organizations.accept_invitation(session=session, user=user(session), token=invitation.token)
    assert again.value.code == "invitation_invalid" and again.value.status == 410


def test_an_expired_or_unknown_invitation_is_gone(session):
    org = organization(session)
    invitation = invite(session, org)
    session.get(Invitation, secret_hash(invitation.token)).expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    for token in (invitation.token, "not-a-token"):
        with pytest.raises(Gone, match="invitation_invalid"):
            organizations.accept_invitation(session=session, user=user(session), token=token)


def test_a_member_accepting_an_invitation_keeps_their_role(session):
    org = organization(session)
    owner = member(session, org, Role.owner)
    invitation = invite(session, org, role=Role.organizer, by=owner)
    organizations.accept_invitation(session=session, user=owner, token=invitation.token)
    assert session.scalars(select(Membership).where(Membership.user_id == owner.id)).one().role == Role.owner


# ---------------------------------------------------------------------------------------------------- gas budget


def test_the_sponsor_sets_an_organizations_gas_budget(session):
    org = organization(session)
    sponsor = user(session, email="dx@city.kanazawa.example", sponsor=True)
    updated = organizations.set_gas_budget(session=session, user=sponsor, organization_id=org.id,
                                           gas_budget=123_456)
    assert updated.gas_budget == 123_456
    session.expire_all()
    assert session.get(Organization, org.id).gas_budget == 123_456


@pytest.mark.parametrize("who", ["owner", "stranger", "no_email", "unverified_sponsor"])
def test_nobody_but_the_sponsor_sets_a_gas_budget(session, who):
    org = organization(session)
    budget = org.gas_budget
    someone = {"owner": lambda: member(session, org, Role.owner), "stranger": lambda: user(session),
               "no_email": lambda: user(session, email=None, sponsor=True),
               "unverified_sponsor": lambda: user(session, sponsor=True, verified=False)}[who]()
    with pytest.raises(Forbidden) as refused:
        organizations.set_gas_budget(session=session, user=someone, organization_id=org.id, gas_budget=10**9)
    assert refused.value.code == "not_sponsor" and refused.value.status == 403
    session.expire_all()
    assert session.get(Organization, org.id).gas_budget == budget


def test_the_sponsors_address_alone_gives_no_power(session, monkeypatch):
    """What was the sponsor's configuration (KYOSO_SPONSOR_EMAILS) is read no more: the address is no role."""
    monkeypatch.setenv("KYOSO_SPONSOR_EMAILS", "dx@city.kanazawa.example")
    org = organization(session)
    with pytest.raises(Forbidden, match="not_sponsor"):
        organizations.set_gas_budget(session=session, user=user(session, email="dx@city.kanazawa.example"),
                                     organization_id=org.id, gas_budget=1)


def test_the_sponsor_setting_a_budget_of_an_unknown_organization_is_not_found(session):
    sponsor = user(session, email="finance@city.kanazawa.example", sponsor=True)
    with pytest.raises(NotFound, match="organization_not_found"):
        organizations.set_gas_budget(session=session, user=sponsor, organization_id=999, gas_budget=1)
