"""The rules of events: who creates and edits them, which are listed, and their claim codes (single-use links on a
printed sheet, the kiosk's rotating code, the secret word)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.claims.models import Claim, ClaimStatus
from backend.events.kiosk import kiosk_code, kiosk_code_matches, kiosk_period, valid_for_s
from backend.events.models import ClaimCode, Event
from backend.events.qr_sheet import sheet_png
from backend.events.schemas import MAX_SHEET_CODES, EventCreate, EventPublic, EventUpdate, KioskPublic
from backend.missions.models import Mission
from backend.organizations import allowance, gas_budget
from backend.organizations.service import ORGANIZERS, membership_of
from backend.platform import rate_limits, throttle
from backend.platform.errors import NotFound, Unprocessable
from backend.platform.paging import DEFAULT_LIMIT, Paged, page_of
from backend.platform.security import new_secret, secret_hash

__all__ = [
    "check_points_cap", "claim_url", "code_sheet", "code_sheet_filename", "create_codes", "create_event", "event_public", "event_stats",
    "events_by_ids", "events_of_organization", "get_event", "kiosk", "kiosk_code_matches", "list_events",
    "organizer_event", "update_event",
]


def event_public(event: Event) -> EventPublic:
    public = EventPublic.model_validate(event)
    public.has_secret_word = event.word_hash is not None
    return public


def get_event(*, session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("event_not_found")
    return event


def organizer_event(*, session: Session, user: User, event_id: int, roles=()) -> Event:
    """The event, if the user is a member of its organization (with one of `roles`, if given)."""
    event = get_event(session=session, event_id=event_id)
    membership_of(session=session, user=user, organization_id=event.organization_id, roles=roles)
    return event


def claim_url(base: str, event_id: int, **params: str) -> str:
    """The claim page with its secret in the fragment (`#c=...`): browsers never send a fragment to the server, so
    the secret stays out of access logs and proxies; the page reads it and posts it in the request body."""
    fragment = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{base}/claim/{event_id}" + (f"#{fragment}" if fragment else "")


def create_event(*, session: Session, user: User, organization_id: int, body: EventCreate) -> Event:
    """An event of the organization (its organizers only); the relayer registers it on chain once the organization is
    approved. Its points may not pass the community's cap per event (the contract would refuse it). What putting it
    on chain costs is reserved in the organization's gas budget (402 when it has no room), and events are limited per
    organization and per account (429; backend/platform/rate_limits.py): both in the event's own transaction."""
    membership = membership_of(session=session, user=user, organization_id=organization_id, roles=ORGANIZERS)
    check_points_cap(session=session, points=body.points)
    gas_budget.reserve_event(session, organization_id)
    throttle.take(session, rate_limits.events(organization_id=organization_id, user_id=user.id),
                  organization=membership.organization.name_en)
    event = Event(
        organization_id=organization_id, title_ja=body.title_ja, title_en=body.title_en,
        description_ja=body.description_ja, description_en=body.description_en, category=body.category,
        venue=body.venue, starts_at=body.starts_at, ends_at=body.ends_at, claim_start=body.claim_start,
        claim_end=body.claim_end, capacity=body.capacity, points=body.points, kiosk_seed=os.urandom(32),
        word_hash=secret_hash(body.secret_word.casefold()) if body.secret_word else None,
    )
    session.add(event)
    session.commit()
    return event


def check_points_cap(*, session: Session, points: int) -> None:
    """An event (or a mission's badge) may not credit more points than the community's cap per event, which the badge
    contract enforces: refused here before anything is stored or sent."""
    limits = allowance.limits_of(session)
    if limits is not None and points > limits.max_event_points:
        raise Unprocessable("event_points_above_cap", points=points, cap=limits.max_event_points)


def update_event(*, session: Session, user: User, event_id: int, body: EventUpdate) -> Event:
    """Edits an event's texts (its organizers only); a field left out or null stays as it is."""
    event = organizer_event(session=session, user=user, event_id=event_id, roles=ORGANIZERS)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(event, field, value)
    session.commit()
    return event


def list_events(*, session: Session, upcoming: bool = True, limit: int = DEFAULT_LIMIT, offset: int = 0,
                newest_first: bool = False) -> Paged[Event]:
    """Events, soonest first (`newest_first`: the latest first), a page of `limit` from `offset`; `upcoming`: those
    that have not ended yet. Missions' badge events are not events to attend: they are listed with the missions."""
    order = (Event.starts_at.desc(), Event.id.desc()) if newest_first else (Event.starts_at, Event.id)
    query = select(Event).where(Event.id.not_in(select(Mission.event_id))).order_by(*order)
    if upcoming:
        query = query.where(Event.ends_at >= datetime.now(timezone.utc))
    return page_of(session, query, limit=limit, offset=offset)


def events_by_ids(*, session: Session, ids: Iterable[int]) -> dict[int, Event]:
    """The events of `ids` that exist, by id (a page's titles for claims or rules)."""
    ids = set(ids)
    return {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))} if ids else {}


def events_of_organization(*, session: Session, organization_id: int, limit: int = 100) -> list[Event]:
    """The organization's latest `limit` events, the latest first, missions' badge events included (its organizers'
    list)."""
    return list(session.scalars(select(Event).where(Event.organization_id == organization_id)
                                .order_by(Event.starts_at.desc()).limit(limit)).all())


def event_stats(*, session: Session, user: User, event_id: int) -> dict:
    """The event's claims by status (members of its organization only)."""
    organizer_event(session=session, user=user, event_id=event_id)
    counts = dict(session.execute(select(Claim.status, func.count()).where(Claim.event_id == event_id)
                                  .group_by(Claim.status)).all())
    return {"event_id": event_id, **{s.value: counts.get(s, 0) for s in ClaimStatus}}


def _new_codes(session: Session, event: Event, count: int, base_url: str) -> list[str]:
    secrets = [new_secret() for _ in range(count)]
    session.add_all(ClaimCode(code_hash=secret_hash(s), event_id=event.id) for s in secrets)
    session.commit()
    return [claim_url(base_url, event.id, c=s) for s in secrets]


def create_codes(*, session: Session, user: User, event_id: int, count: int, base_url: str) -> list[str]:
    """`count` single-use claim links (128-bit secrets, stored hashed: the links exist only in this answer). Refused
    (402) once the organization's gas budget cannot pay another claim, and limited per organization and per account
    as sheets (429)."""
    event = organizer_event(session=session, user=user, event_id=event_id, roles=ORGANIZERS)
    gas_budget.refuse_if_spent(session, event.organization_id)
    throttle.take(session, rate_limits.code_sheets(organization_id=event.organization_id, user_id=user.id),
                  organization=event.organization.name_en)
    return _new_codes(session, event, count, base_url)


def code_sheet(*, session: Session, user: User, event_id: int, count: int, base_url: str) -> bytes:
    """A printable PNG sheet of `count` new single-use QR codes (they are not stored in clear), at most
    MAX_SHEET_CODES: drawing them is the request's own work."""
    if count > MAX_SHEET_CODES:
        raise Unprocessable("too_many_codes", limit=MAX_SHEET_CODES, count=count)
    return sheet_png(create_codes(session=session, user=user, event_id=event_id, count=count, base_url=base_url))


def code_sheet_filename(event_id: int) -> str:
    return f"kyoso-event-{event_id}-codes.png"


def kiosk(*, session: Session, user: User, event_id: int, base_url: str, now: float | None = None) -> KioskPublic:
    """The current rotating code for a screen at the venue (members of the event's organization only)."""
    event = organizer_event(session=session, user=user, event_id=event_id)
    now = time.time() if now is None else now
    code = kiosk_code(event.kiosk_seed, kiosk_period(now))
    return KioskPublic(code=code, claim_url=claim_url(base_url, event_id, k=code), valid_for_s=valid_for_s(now))
