"""Events and their claim codes (printed sheet, rotating kiosk code, secret word)."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.api.errors import errors
from backend.api.routes.organizations import membership_of
from backend.platform.security import new_secret, secret_hash
from backend.api.deps import CurrentUser, DbId, SessionDep, SettingsDep
from backend.claims.models import Claim, ClaimStatus
from backend.events.models import ClaimCode, Event
from backend.missions.models import Mission
from backend.organizations.models import Role
from backend.events.qr_sheet import sheet_png
from backend.events.schemas import CodesCreate, CodesPublic, EventCreate, EventPublic, EventUpdate, KioskPublic

router = APIRouter(tags=["events"])

KIOSK_PERIOD_S = 30  # a kiosk code changes every 30 seconds, like an authenticator app
KIOSK_GRACE_PERIODS = 1  # the previous code still works: a phone may scan just before it changes
KIOSK_EXPIRED_LOOKBACK = 240  # older codes (up to 2 hours) are recognised as expired rather than wrong
KIOSK_DIGITS = 10


def event_public(event: Event) -> EventPublic:
    public = EventPublic.model_validate(event)
    public.has_secret_word = event.word_hash is not None
    return public


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise HTTPException(404, {"error": "event_not_found", "message": "No such event. / イベントが見つかりません。"})
    return event


def claim_url(base: str, event_id: int, **params: str) -> str:
    """The claim page with its secret in the fragment (`#c=...`): browsers never send a fragment to the server, so
    the secret stays out of access logs and proxies; the page reads it and posts it in the request body."""
    fragment = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{base}/claim/{event_id}" + (f"#{fragment}" if fragment else "")


def kiosk_code(seed: bytes, period: int) -> str:
    digest = hmac.new(seed, period.to_bytes(8, "big"), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**KIOSK_DIGITS).zfill(KIOSK_DIGITS)


def kiosk_period(now: float | None = None) -> int:
    return int((now if now is not None else time.time()) // KIOSK_PERIOD_S)


@router.post("/organizations/{organization_id}/events", response_model=EventPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(403))
def create_event(organization_id: DbId, body: EventCreate, session: SessionDep, user: CurrentUser):
    """Creates an event of the organization (its organizers only); the relayer registers it on chain."""
    membership_of(session, user, organization_id, Role.owner, Role.organizer)
    event = Event(
        organization_id=organization_id, title_ja=body.title_ja, title_en=body.title_en,
        description_ja=body.description_ja, description_en=body.description_en, category=body.category,
        venue=body.venue, starts_at=body.starts_at, ends_at=body.ends_at, claim_start=body.claim_start,
        claim_end=body.claim_end, capacity=body.capacity, points=body.points, kiosk_seed=os.urandom(32),
        word_hash=secret_hash(body.secret_word.casefold()) if body.secret_word else None,
    )
    session.add(event)
    session.commit()
    return event_public(event)


@router.patch("/events/{event_id}", response_model=EventPublic, responses=errors(403))
def update_event(event_id: DbId, body: EventUpdate, session: SessionDep, user: CurrentUser):
    """Edits an event's texts (its organizers only); a field left out or null stays as it is."""
    event = get_event(session, event_id)
    membership_of(session, user, event.organization_id, Role.owner, Role.organizer)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(event, field, value)
    session.commit()
    return event_public(event)


@router.get("/events", response_model=list[EventPublic])
def list_events(session: SessionDep, upcoming: bool = True, limit: int = Query(50, ge=1, le=200)):
    """Events, soonest first; by default those that have not ended yet. Missions' badge events are not events to
    attend: they are listed under /missions."""
    query = select(Event).where(Event.id.not_in(select(Mission.event_id))).order_by(Event.starts_at).limit(limit)
    if upcoming:
        query = query.where(Event.ends_at >= datetime.now(timezone.utc))
    return [event_public(e) for e in session.scalars(query).all()]


@router.get("/events/{event_id}", response_model=EventPublic)
def read_event(event_id: DbId, session: SessionDep):
    return event_public(get_event(session, event_id))


@router.get("/events/{event_id}/stats", responses=errors(403))
def event_stats(event_id: DbId, session: SessionDep, user: CurrentUser) -> dict:
    event = get_event(session, event_id)
    membership_of(session, user, event.organization_id)
    counts = dict(session.execute(select(Claim.status, func.count()).where(Claim.event_id == event_id)
                                  .group_by(Claim.status)).all())
    return {"event_id": event_id, **{s.value: counts.get(s, 0) for s in ClaimStatus}}


def _new_codes(session: Session, event: Event, count: int, base: str) -> list[str]:
    secrets = [new_secret() for _ in range(count)]
    session.add_all(ClaimCode(code_hash=secret_hash(s), event_id=event.id) for s in secrets)
    session.commit()
    return [claim_url(base, event.id, c=s) for s in secrets]


@router.post("/events/{event_id}/codes", response_model=CodesPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403))
def create_codes(event_id: DbId, body: CodesCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """Single-use claim links (128-bit secrets, stored hashed): shown once, in this response only."""
    event = get_event(session, event_id)
    membership_of(session, user, event.organization_id, Role.owner, Role.organizer)
    return CodesPublic(event_id=event_id, claim_urls=_new_codes(session, event, body.count, settings.public_base_url))


@router.post("/events/{event_id}/code-sheet", response_class=Response,
             responses={**errors(403), 200: {"content": {"image/png": {}}}})
def code_sheet(event_id: DbId, body: CodesCreate, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """A printable PNG sheet of single-use QR codes (new codes each time; they are not stored in clear)."""
    event = get_event(session, event_id)
    membership_of(session, user, event.organization_id, Role.owner, Role.organizer)
    urls = _new_codes(session, event, body.count, settings.public_base_url)
    return Response(render_sheet(urls), media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="kyoso-event-{event_id}-codes.png"'})


def render_sheet(urls: list[str]) -> bytes:
    return sheet_png(urls)


@router.get("/events/{event_id}/kiosk", response_model=KioskPublic, responses=errors(403))
def kiosk(event_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """The current rotating code for a screen at the venue (organizers only)."""
    event = get_event(session, event_id)
    membership_of(session, user, event.organization_id)
    now = time.time()
    code = kiosk_code(event.kiosk_seed, kiosk_period(now))
    return KioskPublic(code=code, claim_url=claim_url(settings.public_base_url, event_id, k=code),
                       valid_for_s=KIOSK_PERIOD_S - int(now % KIOSK_PERIOD_S))
