"""Missions complete by themselves: the indexer calls `award` in the database transaction that records new badge
holdings (and `sweep_new` for members who qualified before a mission existed). A completion is a Claim of the
mission's event with method `mission`; the claims table's unique (user, event) makes it exactly once, also when the
indexer processes the same blocks again after a crash, and the relayer issues it like any other claim.

Its gas is reserved in the organization's budget like any claim's. When the budget has no room, the completion is not
refused (the member did the mission; the claim route's 402 would have nobody to answer): it is stored `owed`, the
member's missions say so, and `pay_owed` makes it `accepted` once the sponsor has raised the budget."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.claims.models import BadgeHolding, Claim, ClaimMethod, ClaimStatus
from backend.events.models import Event
from backend.missions.models import Mission
from backend.organizations import gas_budget
from backend.perks.service import rule_progress


def open_missions(session: Session, now: datetime) -> list[Mission]:
    return list(session.scalars(select(Mission).where(Mission.valid_from <= now, Mission.valid_until >= now)
                                .order_by(Mission.id)).all())


def award(session: Session, addresses: Iterable[str], now: datetime, missions: list[Mission] | None = None) -> int:
    """Records the completions of the members at `addresses` whose badges now satisfy an open mission; the number
    recorded."""
    missions = open_missions(session, now) if missions is None else missions
    addresses = set(addresses)
    if not missions or not addresses:
        return 0
    users = session.scalars(select(User).where(User.wallet_address.in_(addresses), User.deleted_at.is_(None))).all()
    done = set(session.execute(select(Claim.user_id, Claim.event_id).where(
        Claim.user_id.in_([u.id for u in users]), Claim.event_id.in_([m.event_id for m in missions]))).all())
    recorded = 0
    for user in users:
        for mission in missions:
            if (user.id, mission.event_id) in done or not rule_progress(
                    session=session, address=user.wallet_address, rule=mission.rule).eligible:
                continue
            try:
                with session.begin_nested():
                    paid = gas_budget.reserve(session, mission.event.organization_id)
                    session.add(Claim(user_id=user.id, event_id=mission.event_id, recipient=user.wallet_address,
                                      method=ClaimMethod.mission,
                                      status=ClaimStatus.accepted if paid else ClaimStatus.owed))
                    session.flush()
                recorded += 1
            except IntegrityError:
                pass  # recorded already (by another path at the same moment): once is the point
    return recorded


def pay_owed(session: Session) -> int:
    """Owed mission badges (oldest first, per organization) become `accepted`, with their reservation, as far as each
    organization's budget has room now; the number released."""
    owed = session.execute(select(Claim, Event.organization_id).join(Event, Event.id == Claim.event_id)
                           .where(Claim.status == ClaimStatus.owed).order_by(Claim.id)).all()
    full, released = set(), 0
    for claim, organization_id in owed:
        if organization_id in full:
            continue
        if not gas_budget.reserve(session, organization_id):
            full.add(organization_id)
            continue
        claim.status = ClaimStatus.accepted
        released += 1
    return released


def sweep_new(session: Session, now: datetime) -> int:
    """Newly opened missions, once each: every member holding a badge is looked at. Called by the indexer after each
    step, which is also when owed badges are paid (`pay_owed`): a budget raised by the sponsor counts from the next
    block."""
    pay_owed(session)
    fresh = list(session.scalars(select(Mission).where(Mission.swept.is_(False), Mission.valid_from <= now)).all())
    if not fresh:
        return 0
    holders = session.scalars(select(BadgeHolding.holder).distinct()).all()
    recorded = award(session, holders, now, [m for m in fresh if m.valid_until >= now])
    for mission in fresh:
        mission.swept = True
    return recorded
