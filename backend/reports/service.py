"""The organizer's charts: claims of an event per ten minutes, and redemptions of an organization's perks and
completions of its missions per day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.models import Event
from backend.perks.models import Perk, PerkRedemption

CHART_BUCKET = timedelta(minutes=10)
CHART_BUCKETS = 18  # three hours of claims on the organizer's chart
ACTIVITY_DAYS = 14  # days of redemptions and mission completions on the organizer's chart
# The organizers' days are days in Japan, wherever the server runs.
JST = timezone(timedelta(hours=9), "JST")


def time_buckets(*, times: Iterable[datetime], start: datetime, size: timedelta,
                 count: int) -> list[tuple[datetime, int]]:
    """How many of `times` fall into each of `count` buckets of `size` from `start` (the last bucket takes what
    comes after it; what comes before `start` is left out)."""
    counts = [0] * count
    for moment in times:
        if moment >= start:
            counts[min(count - 1, int((moment - start) / size))] += 1
    return [(start + size * i, n) for i, n in enumerate(counts)]


def claim_buckets(*, session: Session, event_id: int, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Claims per CHART_BUCKET over the last CHART_BUCKETS buckets, the last one ending at the next ten minutes."""
    now = now or datetime.now(timezone.utc)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=10 - now.minute % 10)
    start = end - CHART_BUCKET * CHART_BUCKETS
    times = session.scalars(select(Claim.created_at).where(Claim.event_id == event_id,
                                                           Claim.created_at >= start)).all()
    return time_buckets(times=times, start=start, size=CHART_BUCKET, count=CHART_BUCKETS)


def claim_counts(*, session: Session, event_id: int) -> dict[str, int]:
    """The event's claims: all of them (`total`) and those whose badge is on chain (`confirmed`)."""
    rows = dict(session.execute(select(Claim.status, func.count()).where(Claim.event_id == event_id)
                                .group_by(Claim.status)).all())
    return {"total": sum(rows.values()), "confirmed": rows.get(ClaimStatus.confirmed, 0)}


def activity(*, session: Session, organization_id: int, now: datetime | None = None):
    """Redemptions of the organization's perks and completions of its missions per day over ACTIVITY_DAYS days
    (Japan time): `([((day, redemptions), completions), ...], all redemptions, all completions)`."""
    now = (now or datetime.now(timezone.utc)).astimezone(JST)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=ACTIVITY_DAYS - 1)
    redeemed = session.scalars(select(PerkRedemption.created_at).join(Perk, Perk.id == PerkRedemption.perk_id)
                               .where(Perk.organization_id == organization_id)).all()
    completed = session.scalars(select(Claim.created_at).join(Event, Event.id == Claim.event_id).where(
        Event.organization_id == organization_id, Claim.method == ClaimMethod.mission)).all()
    day = timedelta(days=1)
    return (list(zip(time_buckets(times=redeemed, start=start, size=day, count=ACTIVITY_DAYS),
                     (n for _, n in time_buckets(times=completed, start=start, size=day, count=ACTIVITY_DAYS)))),
            len(redeemed), len(completed))
