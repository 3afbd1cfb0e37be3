"""Missions complete by themselves: the indexer calls `award` in the database transaction that records new badge
holdings (and `sweep_new` for members who qualified before a mission existed). A completion is a Claim of the
mission's event with method `mission`; the claims table's unique (user, event) makes it exactly once, also when the
indexer processes the same blocks again after a crash, and the relayer issues it like any other claim."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.claims.models import BadgeHolding, Claim, ClaimMethod
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
                    session.add(Claim(user_id=user.id, event_id=mission.event_id, recipient=user.wallet_address,
                                      method=ClaimMethod.mission))
                    session.flush()
                    # owed once the mission is done, so reserved even past the budget (the claim route would refuse)
                    gas_budget.reserve(session, mission.event.organization_id, within_budget=False)
                recorded += 1
            except IntegrityError:
                pass  # recorded already (by another path at the same moment): once is the point
    return recorded


def sweep_new(session: Session, now: datetime) -> int:
    """Newly opened missions, once each: every member holding a badge is looked at."""
    fresh = list(session.scalars(select(Mission).where(Mission.swept.is_(False), Mission.valid_from <= now)).all())
    if not fresh:
        return 0
    holders = session.scalars(select(BadgeHolding.holder).distinct()).all()
    recorded = award(session, holders, now, [m for m in fresh if m.valid_until >= now])
    for mission in fresh:
        mission.swept = True
    return recorded
