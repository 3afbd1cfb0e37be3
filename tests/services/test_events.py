"""The rules of events: who creates and edits them, which are listed, their claim codes and the kiosk's rotating
code, and the badges' metadata."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from backend.accounts.models import User, WalletKind
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events import metadata, service
from backend.events.kiosk import KIOSK_EXPIRED_LOOKBACK, KIOSK_PERIOD_S, kiosk_code, kiosk_code_matches, kiosk_period
from backend.events.models import ClaimCode, Event
from backend.events.schemas import EventCreate, EventUpdate
from backend.missions.models import Mission
from backend.organizations.models import Membership, Organization, Role
from backend.platform.errors import Forbidden, Gone, NotFound
from backend.platform.security import secret_hash

NOW = datetime.now(timezone.utc)
SEED = bytes(range(32))
BASE = "https://kyoso.example"


def add_user(session, n: int) -> User:
    user = User(email=f"member{n}@example.jp", wallet_address=f"0x{n:040x}", wallet_kind=WalletKind.custodial)
    session.add(user)
    session.commit()
    return user


def add_organization(session, *members: tuple[User, Role]) -> Organization:
    org = Organization(name_ja="金沢工芸会", name_en="Kanazawa Crafts", issuer_address=f"0x{os.urandom(20).hex()}",
                       issuer_key=b"sealed")
    session.add(org)
    session.flush()
    session.add_all(Membership(organization_id=org.id, user_id=user.id, role=role) for user, role in members)
    session.commit()
    return org


def add_event(session, org: Organization, *, starts_in=timedelta(days=1), **fields) -> Event:
    starts = NOW + starts_in
    event = Event(organization_id=org.id, title_ja="金箔貼り体験", title_en="Gold leaf workshop", category="crafts",
                  starts_at=starts, ends_at=starts + timedelta(hours=3), claim_start=starts,
                  claim_end=starts + timedelta(hours=4), points=10, kiosk_seed=SEED, **fields)
    session.add(event)
    session.commit()
    return event


def event_body(**overrides) -> EventCreate:
    fields = dict(title_ja="金箔貼り体験", title_en="Gold leaf workshop", category="crafts", starts_at=NOW,
                  ends_at=NOW + timedelta(hours=3), claim_start=NOW, claim_end=NOW + timedelta(hours=4), points=10)
    return EventCreate(**{**fields, **overrides})


@pytest.fixture
def organizer(session) -> User:
    return add_user(session, 1)


@pytest.fixture
def org(session, organizer) -> Organization:
    return add_organization(session, (organizer, Role.organizer))


# ---------------------------------------------------------------------------------------------------- kiosk code


def test_the_kiosk_code_of_this_period_and_of_the_previous_one_are_accepted():
    now = 1_800_000_000.0
    period = kiosk_period(now)
    assert kiosk_code_matches(seed=SEED, typed=kiosk_code(SEED, period), now=now)
    assert kiosk_code_matches(seed=SEED, typed=kiosk_code(SEED, period - 1), now=now)  # scanned just before it changed


def test_an_older_kiosk_code_is_expired_not_wrong():
    now = 1_800_000_000.0
    with pytest.raises(Gone) as refused:
        kiosk_code_matches(seed=SEED, typed=kiosk_code(SEED, kiosk_period(now) - 2), now=now)
    assert refused.value.code == "kiosk_code_expired"


def test_a_kiosk_code_older_than_two_hours_or_of_another_event_is_wrong():
    now = 1_800_000_000.0
    older = kiosk_code(SEED, kiosk_period(now) - KIOSK_EXPIRED_LOOKBACK - 1)
    assert not kiosk_code_matches(seed=SEED, typed=older, now=now)
    assert not kiosk_code_matches(seed=os.urandom(32), typed=kiosk_code(SEED, kiosk_period(now)), now=now)
    assert not kiosk_code_matches(seed=SEED, typed="not a code", now=now)


def test_a_kiosk_code_typed_in_full_width_digits_with_spaces_is_the_same_code():
    now = 1_800_000_000.0
    code = kiosk_code(SEED, kiosk_period(now))
    full_width = code.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert kiosk_code_matches(seed=SEED, typed=f" {full_width} ", now=now)


def test_the_kiosk_shows_the_current_code_with_its_secret_in_the_fragment(session, organizer, org):
    event = add_event(session, org)
    now = 1_800_000_007.0
    shown = service.kiosk(session=session, user=organizer, event_id=event.id, base_url=BASE, now=now)
    assert shown.code == kiosk_code(SEED, kiosk_period(now))
    assert shown.claim_url == f"{BASE}/claim/{event.id}#k={shown.code}"
    assert shown.valid_for_s == KIOSK_PERIOD_S - 7


def test_only_members_of_the_organization_see_the_kiosk_code(session, org):
    event = add_event(session, org)
    with pytest.raises(Forbidden) as refused:
        service.kiosk(session=session, user=add_user(session, 2), event_id=event.id, base_url=BASE)
    assert refused.value.code == "not_an_organizer"


# ---------------------------------------------------------------------------------------------------- events


def test_an_event_must_end_after_it_starts_and_its_claim_window_close_after_it_opens():
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        event_body(ends_at=NOW)
    with pytest.raises(ValidationError, match="claim_end must be after claim_start"):
        event_body(claim_end=NOW - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="must include a time zone"):
        event_body(starts_at=datetime(2026, 11, 3, 10, 0))
    with pytest.raises(ValidationError, match="between the years 2000 and 2200"):
        event_body(ends_at=datetime(2999, 1, 1, tzinfo=timezone.utc))


def test_an_organizer_creates_an_event_with_a_kiosk_seed_and_the_secret_word_hashed(session, organizer, org):
    event = service.create_event(session=session, user=organizer, organization_id=org.id,
                                 body=event_body(secret_word="Kenrokuen"))
    stored = session.get(Event, event.id)
    assert stored.organization_id == org.id and len(stored.kiosk_seed) == 32
    assert stored.word_hash == secret_hash("kenrokuen")
    assert service.event_public(stored).has_secret_word


def test_a_non_member_cannot_create_an_event(session, org):
    with pytest.raises(Forbidden) as refused:
        service.create_event(session=session, user=add_user(session, 2), organization_id=org.id, body=event_body())
    assert refused.value.code == "not_an_organizer"
    assert session.scalars(select(Event)).all() == []


def test_an_event_of_an_organization_that_does_not_exist_is_404(session, organizer):
    with pytest.raises(NotFound) as refused:
        service.create_event(session=session, user=organizer, organization_id=999, body=event_body())
    assert refused.value.code == "organization_not_found"


def test_an_update_changes_only_the_fields_given(session, organizer, org):
    event = add_event(session, org, venue="Kenrokuen")
    service.update_event(session=session, user=organizer, event_id=event.id, body=EventUpdate(title_en="Gold leaf"))
    stored = session.get(Event, event.id)
    assert (stored.title_en, stored.title_ja, stored.venue) == ("Gold leaf", "金箔貼り体験", "Kenrokuen")


def test_a_non_member_cannot_update_an_event(session, org):
    event = add_event(session, org)
    with pytest.raises(Forbidden):
        service.update_event(session=session, user=add_user(session, 2), event_id=event.id,
                             body=EventUpdate(title_en="Mine"))
    assert session.get(Event, event.id).title_en == "Gold leaf workshop"


def test_an_unknown_event_is_404(session):
    with pytest.raises(NotFound) as refused:
        service.get_event(session=session, event_id=999)
    assert refused.value.code == "event_not_found"


def test_the_list_holds_upcoming_events_soonest_first_without_missions_badges(session, org):
    later = add_event(session, org, starts_in=timedelta(days=3))
    sooner = add_event(session, org, starts_in=timedelta(days=1))
    ended = add_event(session, org, starts_in=-timedelta(days=2))
    mission_badge = add_event(session, org, starts_in=timedelta(days=2))
    session.add(Mission(organization_id=org.id, event_id=mission_badge.id, rule={}, valid_from=NOW,
                        valid_until=NOW + timedelta(days=30)))
    session.commit()
    assert [e.id for e in service.list_events(session=session)] == [sooner.id, later.id]
    assert [e.id for e in service.list_events(session=session, upcoming=False)] == [ended.id, sooner.id, later.id]
    assert [e.id for e in service.list_events(session=session, limit=1)] == [sooner.id]
    newest = service.list_events(session=session, upcoming=False, limit=2, newest_first=True)
    assert [e.id for e in newest] == [later.id, sooner.id]


def test_an_organizations_events_are_all_listed_latest_first_with_missions_badges(session, org):
    sooner = add_event(session, org, starts_in=timedelta(days=1))
    ended = add_event(session, org, starts_in=-timedelta(days=2))
    mission_badge = add_event(session, org, starts_in=timedelta(days=2))
    session.add(Mission(organization_id=org.id, event_id=mission_badge.id, rule={}, valid_from=NOW,
                        valid_until=NOW + timedelta(days=30)))
    add_event(session, add_organization(session))
    listed = service.events_of_organization(session=session, organization_id=org.id)
    assert [e.id for e in listed] == [mission_badge.id, sooner.id, ended.id]


def test_events_by_ids_leaves_out_ids_that_do_not_exist(session, org):
    event = add_event(session, org)
    assert service.events_by_ids(session=session, ids=[event.id, 999]) == {event.id: event}
    assert service.events_by_ids(session=session, ids=[]) == {}


def test_the_stats_count_the_claims_by_status(session, organizer, org):
    event = add_event(session, org)
    for n, status in enumerate([ClaimStatus.accepted, ClaimStatus.confirmed, ClaimStatus.confirmed], start=10):
        attendee = add_user(session, n)
        session.add(Claim(user_id=attendee.id, event_id=event.id, recipient=attendee.wallet_address,
                          method=ClaimMethod.code, status=status))
    session.commit()
    stats = service.event_stats(session=session, user=organizer, event_id=event.id)
    assert stats == {"event_id": event.id, "accepted": 1, "submitted": 0, "confirmed": 2, "failed": 0, "owed": 0}


def test_claim_codes_are_single_use_links_stored_only_as_hashes(session, organizer, org):
    event = add_event(session, org)
    urls = service.create_codes(session=session, user=organizer, event_id=event.id, count=3, base_url=BASE)
    assert len(set(urls)) == 3 and all(u.startswith(f"{BASE}/claim/{event.id}#c=") for u in urls)
    stored = {c.code_hash for c in session.scalars(select(ClaimCode).where(ClaimCode.event_id == event.id))}
    assert stored == {secret_hash(u.split("#c=")[1]) for u in urls}


def test_the_code_sheet_is_a_png_of_new_codes(session, organizer, org):
    event = add_event(session, org)
    png = service.code_sheet(session=session, user=organizer, event_id=event.id, count=2, base_url=BASE)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(session.scalars(select(ClaimCode).where(ClaimCode.event_id == event.id)).all()) == 2


def test_a_non_member_gets_no_codes(session, org):
    event = add_event(session, org)
    with pytest.raises(Forbidden):
        service.create_codes(session=session, user=add_user(session, 2), event_id=event.id, count=1, base_url=BASE)
    assert session.scalars(select(ClaimCode)).all() == []


# ---------------------------------------------------------------------------------------------------- metadata


def test_a_badge_s_metadata_is_japanese_with_an_english_localization(session, org):
    event = add_event(session, org, token_id=7)
    token_hex = f"{7:064x}"
    found = metadata.metadata(session=session, token_hex=token_hex, base_url=BASE)
    assert found["name"] == "金箔貼り体験" and found["image"] == f"{BASE}/metadata/{token_hex}.svg"
    assert found["properties"]["organization"] == "金沢工芸会"
    english = metadata.metadata_localized(session=session, locale="en", token_hex=token_hex)
    assert english["name"] == "Gold leaf workshop" and english["properties"]["organization"] == "Kanazawa Crafts"
    image = metadata.badge_image(session=session, token_hex="7")  # decimal ids are read too
    assert image == metadata.badge_svg(event) and "Gold leaf workshop" in image


@pytest.mark.parametrize("token_hex", ["f" * 64, "9" * 4000, "not-a-number", "8"])
def test_an_unknown_or_impossible_token_is_no_badge(session, org, token_hex):
    add_event(session, org, token_id=7)
    with pytest.raises(NotFound) as refused:
        metadata.metadata(session=session, token_hex=token_hex, base_url=BASE)
    assert refused.value.code == "badge_not_found"


def test_metadata_exists_in_japanese_and_english_only(session, org):
    add_event(session, org, token_id=7)
    with pytest.raises(NotFound) as refused:
        metadata.metadata_localized(session=session, locale="fr", token_hex="7")
    assert refused.value.code == "locale_not_found"
