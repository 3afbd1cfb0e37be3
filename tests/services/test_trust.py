"""Who may issue, and how much (issue #17): organizations start pending until a steward approves them, stewards are
made by the operator only, claims of a pending or suspended organization are refused before anything is stored, and
the badge contract's caps (points per event, points per organization per period) are refused by the API first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from backend.accounts import service as accounts
from backend.admin import cli
from backend.claims.models import Claim, ClaimMethod
from backend.events import service as events
from backend.events.schemas import EventCreate
from backend.governance import proposals
from backend.governance.schemas import ProposalCreate
from backend.organizations import allowance
from backend.organizations import service as organizations
from backend.organizations.models import Organization, OrganizationStatus
from backend.platform.config import DEV_KEY_ENCRYPTION_KEY, get_settings
from backend.platform.errors import Conflict, Forbidden, Unprocessable
from backend.platform.keys import KeyVault
from backend.platform.security import secret_hash
from tests.services.errors import refused
from tests.services.factories import make_event, make_organization, make_user

NOW = datetime.now(timezone.utc)
WORD = "kenrokuen"
LIMITS = allowance.Limits(max_event_points=100, default_allowance=2_000, allowance_period_s=30 * 24 * 3600)


def worded_event(session, org: Organization, points: int = 10):
    event = make_event(session, org)
    event.points = points
    event.word_hash = secret_hash(WORD)
    session.commit()
    return event


def steward(session):
    user = make_user(session)
    accounts.set_steward(session=session, email=user.email, steward=True)
    return user


def event_body(points: int) -> EventCreate:
    return EventCreate(title_ja="雪吊り", title_en="Yukitsuri", category="volunteering", venue="兼六園",
                       starts_at=NOW, ends_at=NOW + timedelta(hours=2), claim_start=NOW,
                       claim_end=NOW + timedelta(hours=3), capacity=0, points=points)


def record_limits(session, limits: allowance.Limits = LIMITS) -> None:
    allowance.record_limits(session, limits, block_number=1)
    session.commit()


# ---------------------------------------------------------------------------------------------- pending, stewards


def test_a_new_organization_is_pending(session, tmp_path):
    owner = make_user(session)
    org = organizations.create_organization(session=session, vault=KeyVault(DEV_KEY_ENCRYPTION_KEY), user=owner,
                                            name_ja="新団体", name_en="New group")
    assert org.status == OrganizationStatus.pending and org.chain_id is None


def test_a_claim_of_a_pending_organizations_event_is_refused_and_nothing_is_stored(session, claim):
    org = make_organization(session, status=OrganizationStatus.pending)
    event = worded_event(session, org)
    error = refused(claim, make_user(session), event, WORD, ClaimMethod.word)
    assert isinstance(error, Conflict) and error.code == "organization_pending"
    assert error.params == {"organization": org.name_en}
    assert session.query(Claim).count() == 0


def test_a_claim_of_a_suspended_organizations_event_is_forbidden(session, claim):
    org = make_organization(session, status=OrganizationStatus.suspended)
    error = refused(claim, make_user(session), worded_event(session, org), WORD, ClaimMethod.word)
    assert isinstance(error, Forbidden) and error.code == "organization_suspended"


def test_a_member_who_is_no_steward_cannot_approve_even_their_own_organization(session):
    owner = make_user(session)
    org = make_organization(session, status=OrganizationStatus.pending)
    error = refused(organizations.approve_organization, session=session, user=owner, organization_id=org.id)
    assert isinstance(error, Forbidden) and error.code == "not_a_steward"
    session.refresh(org)
    assert org.status == OrganizationStatus.pending


def test_a_steward_approves_and_the_approval_is_recorded(session):
    by = steward(session)
    org = make_organization(session, status=OrganizationStatus.pending)
    approved = organizations.approve_organization(session=session, user=by, organization_id=org.id)
    assert (approved.status, approved.status_changed_by) == (OrganizationStatus.approved, by.id)


def test_a_steward_suspends_with_a_reason(session):
    by = steward(session)
    org = make_organization(session)
    suspended = organizations.suspend_organization(session=session, user=by, organization_id=org.id,
                                                   reason="issued badges nobody earned")
    assert (suspended.status, suspended.status_reason) == (OrganizationStatus.suspended,
                                                           "issued badges nobody earned")


def test_an_organization_suspended_on_chain_cannot_be_approved_by_a_steward(session):
    org = make_organization(session)
    org.chain_id = 7
    session.commit()
    organizations.suspended_on_chain(session=session, chain_id=7, suspended=True)
    session.commit()
    assert org.status == OrganizationStatus.suspended
    error = refused(organizations.approve_organization, session=session, user=steward(session),
                    organization_id=org.id)
    assert isinstance(error, Conflict) and error.code == "organization_suspended_on_chain"


def test_the_operator_makes_a_steward_with_the_admin_command(session, engine, monkeypatch):
    user = make_user(session)
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["steward", "add", user.email])
        unknown = CliRunner().invoke(cli, ["steward", "add", "nobody@example.jp"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    session.refresh(user)
    assert user.is_steward
    assert unknown.exit_code == 1 and "account_not_found" in unknown.output


# ---------------------------------------------------------------------------------------------- caps


def test_an_event_above_the_cap_is_refused_with_the_cap(session):
    record_limits(session)
    org = make_organization(session)
    owner = make_user(session, organization=org)
    error = refused(events.create_event, session=session, user=owner, organization_id=org.id,
                    body=event_body(points=101))
    assert isinstance(error, Unprocessable) and error.code == "event_points_above_cap"
    assert error.params == {"points": 101, "cap": 100}
    assert events.create_event(session=session, user=owner, organization_id=org.id, body=event_body(100)).points == 100


def test_claims_beyond_the_allowance_are_refused_with_when_it_resets(session, claim):
    record_limits(session, allowance.Limits(100, 30, 30 * 24 * 3600))
    org = make_organization(session)
    event = worded_event(session, org, points=10)
    for _ in range(3):
        claim(make_user(session), event, WORD, ClaimMethod.word)
    error = refused(claim, make_user(session), event, WORD, ClaimMethod.word)
    assert isinstance(error, Conflict) and error.code == "points_allowance_exhausted"
    assert error.params["points"] == 10 and error.params["organization"] == org.name_en
    resets = datetime.fromisoformat(error.params["resets_at"])
    assert resets.timestamp() % (30 * 24 * 3600) == 0 and resets > NOW
    assert session.query(Claim).count() == 3


def test_an_organizations_own_allowance_replaces_the_default(session, claim):
    record_limits(session, allowance.Limits(100, 10, 3600))
    org = make_organization(session)
    org.chain_id = 3
    session.commit()
    organizations.set_points_allowance(session=session, chain_id=3, allowance=0)
    session.commit()
    error = refused(claim, make_user(session), worded_event(session, org, points=1), WORD,
                    ClaimMethod.word)
    assert error.code == "points_allowance_exhausted"


def test_the_allowance_counts_again_in_the_next_window(session):
    org = make_organization(session)
    limits = allowance.Limits(100, 20, 3600)
    assert allowance.reserve(session, org.id, 20, limits, NOW)
    assert not allowance.reserve(session, org.id, 1, limits, NOW)
    assert allowance.reserve(session, org.id, 20, limits, NOW + timedelta(hours=1))


def test_a_failed_claim_gives_its_points_back(session):
    org = make_organization(session)
    limits = allowance.Limits(100, 20, 3600)
    assert allowance.reserve(session, org.id, 20, limits, NOW)
    allowance.release(session, org.id, 10, limits, NOW)
    assert allowance.reserve(session, org.id, 10, limits, NOW)
    assert not allowance.reserve(session, org.id, 1, limits, NOW)


# ---------------------------------------------------------------------------------------------- governance


def test_an_organization_allowance_proposal_names_the_organization():
    with pytest.raises(ValueError, match="organization_id"):
        ProposalCreate(kind="parameter", title_ja="枠", title_en="Allowance", parameter="organization_allowance",
                       value=5_000)


def test_an_allowance_proposal_for_an_organization_not_on_chain_is_refused(session):
    org = make_organization(session)
    body = ProposalCreate(kind="parameter", title_ja="枠", title_en="Allowance", parameter="organization_allowance",
                          value=5_000, organization_id=org.id)
    error = refused(proposals.actions_for, session=session, body=body, w3=None, contracts=None)
    assert isinstance(error, Conflict) and error.code == "organization_not_on_chain"
