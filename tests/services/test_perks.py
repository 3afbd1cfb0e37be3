"""The rules of perks: who qualifies (badges on chain, from badge_holdings), the limits, the 60-second pass, and
redemption at the counter (once, by the offering organization's staff, short codes throttled)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.accounts.models import User
from backend.claims.models import Claim, ClaimMethod
from backend.events.models import Event
from backend.missions.models import Mission
from backend.organizations.models import Organization, Role
from backend.perks import passes
from backend.perks import service as perks
from backend.perks.models import Perk, PerkPass, PerkRedemption
from backend.perks.schemas import PerkCreate, RuleSpec
from backend.platform import throttle
from backend.platform.errors import Conflict, Forbidden, Gone, Invalid, NotFound, TooManyAttempts, Unprocessable
from backend.platform.orm import utcnow
from tests.services.factories import give_badges, make_event, make_organization, make_user

SECRET = "test-secret-key"
BASE_URL = "https://kyoso.example"


def user(session, role: Role | None = None, organization: Organization | None = None) -> User:
    return make_user(session, organization=organization, role=role or Role.organizer)


organization, holds = make_organization, give_badges


def event(session, org: Organization, category: str = "festival") -> Event:
    return make_event(session, org, category=category)










def perk(session, org: Organization, rule: dict, **fields) -> Perk:
    now = utcnow()
    row = Perk(organization_id=org.id, title_ja="割引", title_en="Discount", rule=RuleSpec(**rule).model_dump(),
               valid_from=fields.pop("valid_from", now - timedelta(hours=1)),
               valid_until=fields.pop("valid_until", now + timedelta(days=1)), **fields)
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def shop(session):
    """An organization offering perks, its staff member, and a festival and a workshop of two other organizations."""
    org = organization(session)
    staff = user(session, Role.organizer, org)
    festival = event(session, organization(session), "festival")
    workshop = event(session, organization(session), "workshop")
    return org, staff, festival, workshop


def eligible(session, member, row) -> bool:
    return perks.perk_status(session=session, perk=row, user=member).progress.eligible


def new_pass(session, member, row):
    return perks.create_pass(session=session, user=member, perk_id=row.id, secret_key=SECRET, base_url=BASE_URL)


def redeem(session, staff, **code):
    return perks.redeem(session=session, staff=staff, secret_key=SECRET, **code)


# ---------------------------------------------------------------------------------------------------- rules


def test_an_any_events_rule_needs_min_badges_of_its_events(session, shop):
    org, _, festival, workshop = shop
    row = perk(session, org, {"kind": "any_events", "event_ids": [festival.id, workshop.id], "min_badges": 2})
    member = user(session)
    holds(session, member, festival)
    status = perks.perk_status(session=session, perk=row, user=member)
    assert not status.progress.eligible and (status.progress.badges, status.progress.badges_needed) == (1, 2)
    holds(session, member, workshop)
    assert eligible(session, member, row)


def test_an_all_events_rule_needs_every_event(session, shop):
    org, _, festival, workshop = shop
    row = perk(session, org, {"kind": "all_events", "event_ids": [festival.id, workshop.id]})
    member = user(session)
    holds(session, member, workshop)
    assert not eligible(session, member, row)
    holds(session, member, festival)
    assert eligible(session, member, row)


def test_a_category_rule_counts_badges_of_the_category_only(session, shop):
    org, _, festival, workshop = shop
    row = perk(session, org, {"kind": "category", "category": "festival", "min_badges": 2})
    member = user(session)
    holds(session, member, festival, workshop)
    assert perks.perk_status(session=session, perk=row, user=member).progress.badges == 1
    holds(session, member, event(session, organization(session), "festival"))
    assert eligible(session, member, row)


def test_min_organizations_needs_badges_of_that_many_organizations(session, shop):
    org, _, festival, _ = shop
    same_org_event = event(session, festival.organization, "festival")
    row = perk(session, org, {"kind": "category", "category": "festival", "min_badges": 2, "min_organizations": 2})
    member = user(session)
    holds(session, member, festival, same_org_event)
    progress = perks.perk_status(session=session, perk=row, user=member).progress
    assert (progress.eligible, progress.badges, progress.organizations, progress.organizations_needed) == \
        (False, 2, 1, 2)
    holds(session, member, event(session, organization(session), "festival"))
    assert eligible(session, member, row)


def test_a_rule_naming_events_that_do_not_exist_is_refused_with_their_ids(session, shop):
    org, staff, festival, _ = shop
    body = PerkCreate(title_ja="x", title_en="x", valid_from=utcnow(), valid_until=utcnow() + timedelta(days=1),
                      rule={"kind": "any_events", "event_ids": [festival.id, 999_999, 888_888]})
    with pytest.raises(Unprocessable) as refused:
        perks.create_perk(session=session, user=staff, organization_id=org.id, body=body)
    assert refused.value.code == "unknown_events" and refused.value.params == {"event_ids": [888_888, 999_999]}
    assert session.scalar(select(Perk)) is None


def test_only_the_organizations_organizers_create_perks(session, shop):
    org, staff, _, _ = shop
    body = PerkCreate(title_ja="割引", title_en="Discount", valid_from=utcnow(),
                      valid_until=utcnow() + timedelta(days=1), rule={"kind": "category", "category": "festival"})
    with pytest.raises(Forbidden) as refused:
        perks.create_perk(session=session, user=user(session), organization_id=org.id, body=body)
    assert refused.value.code == "not_an_organizer"
    created = perks.create_perk(session=session, user=staff, organization_id=org.id, body=body)
    assert created.rule["kind"] == "category" and created.organization_id == org.id


def test_only_perks_valid_now_are_listed_and_a_missing_perk_is_not_found(session, shop):
    org = shop[0]
    now = utcnow()
    current = perk(session, org, {"kind": "category", "category": "festival"})
    perk(session, org, {"kind": "category", "category": "festival"}, valid_from=now + timedelta(days=1),
         valid_until=now + timedelta(days=2))
    perk(session, org, {"kind": "category", "category": "festival"}, valid_from=now - timedelta(days=2),
         valid_until=now - timedelta(days=1))
    assert [p.id for p in perks.list_perks(session=session)] == [current.id]
    with pytest.raises(NotFound) as missing:
        perks.get_perk(session=session, perk_id=424242)
    assert missing.value.code == "perk_not_found"


# ---------------------------------------------------------------------------------------------------- passes


def test_a_member_who_does_not_qualify_gets_no_pass(session, shop):
    org, _, festival, _ = shop
    row = perk(session, org, {"kind": "any_events", "event_ids": [festival.id]})
    with pytest.raises(Forbidden) as refused:
        new_pass(session, user(session), row)
    assert refused.value.code == "not_eligible"
    assert session.scalar(select(PerkPass)) is None


def test_a_perk_outside_its_period_gives_no_pass(session, shop):
    org, _, festival, _ = shop
    now = utcnow()
    row = perk(session, org, {"kind": "any_events", "event_ids": [festival.id]},
               valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1))
    member = user(session)
    holds(session, member, festival)
    with pytest.raises(Gone) as refused:
        new_pass(session, member, row)
    assert refused.value.code == "perk_not_active"


def test_a_pass_is_signed_for_60_seconds_with_a_short_code(session, shop):
    org, _, festival, _ = shop
    row = perk(session, org, {"kind": "any_events", "event_ids": [festival.id]})
    member = user(session)
    holds(session, member, festival)
    first, second = new_pass(session, member, row), new_pass(session, member, row)
    assert 59 <= first.valid_for_s <= 60 and first.redeem_url == f"{BASE_URL}/console/redeem#p={first.token}"
    assert first.short_code != second.short_code and passes.normalize_short_code(first.short_code)
    claims = passes.verify(passes.pass_key(SECRET), first.token)
    assert (claims.perk_id, claims.user_id) == (row.id, member.id)
    stored = session.get(PerkPass, claims.pass_id)
    assert stored.code_hash == passes.short_code_hash(first.short_code) and stored.used_at is None


# ---------------------------------------------------------------------------------------------------- redemption


@pytest.fixture
def qualified(session, shop):
    """A member whose festival badge qualifies for a perk of the shop with one use per member."""
    org, staff, festival, _ = shop
    row = perk(session, org, {"kind": "any_events", "event_ids": [festival.id]}, limit_per_member=1)
    member = user(session)
    holds(session, member, festival)
    return row, member, staff


def test_a_pass_is_redeemed_once_and_a_replay_is_refused(session, qualified):
    row, member, staff = qualified
    pass_ = new_pass(session, member, row)
    redeemed = redeem(session, staff, token=pass_.token)
    assert (redeemed.perk_id, redeemed.redeemed, redeemed.remaining) == (row.id, 1, 0)
    stored = session.scalar(select(PerkRedemption))
    assert (stored.user_id, stored.staff_user_id, stored.member_seq, stored.total_seq) == (member.id, staff.id, 1, None)
    with pytest.raises(Conflict) as replay:
        redeem(session, staff, token=pass_.token)
    assert replay.value.code == "already_redeemed"
    assert perks.times_used(session=session, perk_id=row.id) == 1


def test_a_typed_short_code_finds_the_pass(session, qualified):
    row, member, staff = qualified
    pass_ = new_pass(session, member, row)
    typed = pass_.short_code.lower().replace("-", " ")
    assert redeem(session, staff, short_code=typed).redeemed == 1


def test_an_expired_pass_is_refused(session, qualified):
    row, member, staff = qualified
    pass_ = new_pass(session, member, row)
    session.get(PerkPass, passes.verify(passes.pass_key(SECRET), pass_.token).pass_id).expires_at = \
        utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(Gone) as expired:
        redeem(session, staff, short_code=pass_.short_code)
    assert expired.value.code == "pass_expired"


def test_a_forged_token_is_an_invalid_code(session, qualified):
    row, member, staff = qualified
    token = new_pass(session, member, row).token
    with pytest.raises(Invalid) as forged:
        redeem(session, staff, token=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert forged.value.code == "invalid_code"


def test_staff_of_another_organization_cannot_redeem(session, qualified, shop):
    row, member, _ = qualified
    other_staff = user(session, Role.owner, organization(session))
    with pytest.raises(Forbidden) as refused:
        redeem(session, other_staff, token=new_pass(session, member, row).token)
    assert refused.value.code == "not_offering_organization"


def test_the_per_member_limit_refuses_further_passes_and_redemptions(session, qualified):
    row, member, staff = qualified
    first, second = new_pass(session, member, row), new_pass(session, member, row)
    redeem(session, staff, token=first.token)
    with pytest.raises(Conflict) as beyond:
        redeem(session, staff, token=second.token)
    assert beyond.value.code == "perk_limit_reached"
    with pytest.raises(Conflict) as no_pass:
        new_pass(session, member, row)
    assert no_pass.value.code == "perk_limit_reached"
    assert perks.perk_status(session=session, perk=row, user=member).remaining == 0


def test_the_total_limit_is_shared_by_all_members(session, shop):
    org, staff, festival, _ = shop
    row = perk(session, org, {"kind": "any_events", "event_ids": [festival.id]}, limit_total=1)
    first, second = user(session), user(session)
    holds(session, first, festival)
    holds(session, second, festival)
    late = new_pass(session, second, row)
    redeem(session, staff, token=new_pass(session, first, row).token)
    with pytest.raises(Conflict) as sold_out:
        redeem(session, staff, token=late.token)
    assert sold_out.value.code == "perk_sold_out"
    assert session.scalar(select(PerkRedemption.total_seq)) == 1


def test_wrong_short_codes_are_throttled_per_staff_account(session, qualified):
    row, member, staff = qualified
    pass_ = new_pass(session, member, row)
    for _ in range(throttle.ACCOUNT.failures - 1):
        with pytest.raises(Invalid) as wrong:
            redeem(session, staff, short_code="ZZZZ-ZZZZ")
        assert wrong.value.code == "invalid_code"
    with pytest.raises(TooManyAttempts) as locked:
        redeem(session, staff, short_code="ZZZZ-ZZZZ")
    assert locked.value.code == "too_many_attempts" and locked.value.params["retry_after"] > 0
    with pytest.raises(TooManyAttempts):  # even the right code, until the cooldown is over
        redeem(session, staff, short_code=pass_.short_code)
    assert redeem(session, staff, token=pass_.token).redeemed == 1  # a scanned token is not a guess


def test_the_redemptions_report_is_for_the_organizations_staff(session, qualified):
    row, member, staff = qualified
    redeem(session, staff, token=new_pass(session, member, row).token)
    rows = perks.redemption_rows(session=session, user=staff, organization_id=row.organization_id)
    assert [r[1:5] for r in rows] == [[row.id, "割引", "Discount", member.id]]
    assert len(perks.REDEMPTIONS_HEADER) == len(rows[0])
    with pytest.raises(Forbidden):
        perks.redemption_rows(session=session, user=member, organization_id=row.organization_id)


# ---------------------------------------------------------------------------------------------------- organizer's page


def test_the_organizers_page_lists_its_perks_and_missions_latest_first_with_their_uses(session, qualified, shop):
    row, member, staff = qualified
    org, _, festival, workshop = shop
    newer = perk(session, org, {"kind": "category", "category": "festival"})
    perk(session, organization(session), {"kind": "category", "category": "festival"})  # another organization's
    redeem(session, staff, token=new_pass(session, member, row).token)
    badge = event(session, org, "other")
    mission = Mission(organization_id=org.id, event_id=badge.id, valid_from=utcnow(),
                      valid_until=utcnow() + timedelta(days=1),
                      rule=RuleSpec(kind="all_events", event_ids=[festival.id, workshop.id]).model_dump())
    session.add(mission)
    session.add(Claim(user_id=member.id, event_id=badge.id, recipient=member.wallet_address,
                      method=ClaimMethod.mission))
    session.commit()
    overview = perks.console_overview(session=session, user=staff, organization_id=org.id)
    assert overview.organization.id == org.id
    assert ([p.id for p in overview.perks], [m.id for m in overview.missions]) == ([newer.id, row.id], [mission.id])
    assert (overview.redemptions, overview.completions) == ({row.id: 1}, {badge.id: 1})
    with pytest.raises(Forbidden):
        perks.console_overview(session=session, user=member, organization_id=org.id)
    with pytest.raises(NotFound):
        perks.console_overview(session=session, user=staff, organization_id=999)


def test_the_events_that_rules_name_are_found_for_their_titles(session, shop):
    _, _, festival, workshop = shop
    rules = [{"kind": "any_events", "event_ids": [festival.id, 999]}, {"kind": "category", "category": "crafts"},
             {"kind": "all_events", "event_ids": [workshop.id]}]
    assert perks.rule_events(session=session, rules=rules) == {festival.id: festival, workshop.id: workshop}
