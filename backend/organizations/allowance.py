"""An organization's points allowance: the points its badges may credit per period, enforced by the badge contract.

The contract counts the points of what it issued in fixed windows of `allowance_period_s` seconds (window index =
timestamp // period) and reverts with `AllowanceExceeded` beyond the organization's allowance. The backend refuses
such a claim first, when it is accepted: `organizations.points_used` counts the points of the organization's claims
accepted in window `organizations.points_period`, raised by one conditional UPDATE in the transaction that stores the
claim (as its gas reservation, backend/organizations/gas_budget.py), so that parallel claims cannot all see the same
headroom. A claim accepted in the last seconds of a window may be mined in the next one, where the contract counts it:
the backend's count is then the stricter of the two, never the looser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, case, func, update
from sqlalchemy.orm import Session

from backend.organizations.models import IssuingLimits, Organization

LIMITS_ROW = 1
# The contract's allowances are uint64 and its "no limit" is 2^64 - 1; the columns are signed 64-bit (SQLite and
# PostgreSQL). Anything from 2^63 - 1 up is more than any window can use (an event is worth at most 2^32 - 1 points),
# so it is stored as 2^63 - 1 and means the same.
STORED_MAX = 2**63 - 1


def storable(points: int) -> int:
    """`points` as the allowance columns hold it (see STORED_MAX)."""
    return min(points, STORED_MAX)


@dataclass(frozen=True)
class Limits:
    max_event_points: int
    default_allowance: int
    allowance_period_s: int

    def window(self, now: datetime) -> int:
        return int(now.timestamp()) // self.allowance_period_s

    def window_end(self, now: datetime) -> int:
        """The last second (unix time) of the window `now` is in."""
        return (self.window(now) + 1) * self.allowance_period_s - 1


def limits_of(session: Session | Connection) -> Limits | None:
    """The limits the indexer last read from the chain; None before it has (the contract still enforces them)."""
    row = session.execute(
        IssuingLimits.__table__.select().where(IssuingLimits.id == LIMITS_ROW)).mappings().one_or_none()
    if row is None:
        return None
    return Limits(row["max_event_points"], row["default_allowance"], row["allowance_period_s"])


def record_limits(session: Session, limits: Limits, block_number: int) -> None:
    """The indexer saw the contract's limits change (at deployment, and by governance since)."""
    row = session.get(IssuingLimits, LIMITS_ROW) or IssuingLimits(id=LIMITS_ROW)
    row.max_event_points, row.default_allowance = limits.max_event_points, storable(limits.default_allowance)
    row.allowance_period_s, row.block_number = limits.allowance_period_s, block_number
    session.add(row)


_USED_NOW = case((Organization.points_period == bindparam("window"), Organization.points_used), else_=0)
_RESERVE = (update(Organization)
            .where(Organization.id == bindparam("organization_id"),
                   _USED_NOW + bindparam("points")
                   <= func.coalesce(Organization.points_allowance, bindparam("default_allowance")))
            .values(points_used=_USED_NOW + bindparam("points"), points_period=bindparam("window"))
            .execution_options(synchronize_session=False))


def reserve(session: Session | Connection, organization_id: int, points: int, limits: Limits | None,
            now: datetime) -> bool:
    """Counts `points` against the organization's allowance of the window `now` is in; False (nothing counted) if
    that would pass it. Without known limits nothing is counted (the contract still refuses)."""
    if limits is None or points == 0:
        return True
    return session.execute(_RESERVE, {"organization_id": organization_id, "points": points,
                                      "window": limits.window(now),
                                      "default_allowance": limits.default_allowance}).rowcount == 1


def release(session: Session | Connection, organization_id: int, points: int, limits: Limits | None,
            now: datetime) -> None:
    """Gives back the points of claims that failed for good, if they were counted in the current window."""
    if limits is None or points <= 0:
        return
    session.execute(update(Organization)
                    .where(Organization.id == organization_id, Organization.points_period == limits.window(now))
                    .values(points_used=case((Organization.points_used > points, Organization.points_used - points),
                                             else_=0))
                    .execution_options(synchronize_session=False))


def remaining(org: Organization, limits: Limits | None, now: datetime) -> int | None:
    """Points the organization may still credit in the current window (None: no limits known yet)."""
    if limits is None:
        return None
    allowance = org.points_allowance if org.points_allowance is not None else limits.default_allowance
    used = org.points_used if org.points_period == limits.window(now) else 0
    return max(allowance - used, 0)
