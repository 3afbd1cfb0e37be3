"""Throttling of guesses: wrong claim codes, wrong redemption short codes. Each wrong guess counts against every key
it is made under (the account, the address it came from); a key that reaches its limit within the window is locked
for the cooldown. A locked account gets 429 with Retry-After for every further attempt, even a right one; a locked
address only for wrong guesses (backend/claims/service.py): it is shared by many people, and none of them may be kept
from a right code by what others typed.

The count is one atomic UPDATE per key (`failures = failures + 1 ... RETURNING`), so guesses sent in parallel are all
counted; reading the row and writing it back would let a burst of parallel guesses count as one.

The same rows count creations for the rate limits of backend/platform/rate_limits.py (`take`): each creation counts
against every key it is made under (the account, the organization), in fixed windows; the one beyond a key's limit is
refused with 429, Retry-After (the end of that key's window) and the limit's own error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import NoReturn

from sqlalchemy import ScalarSelect, bindparam, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.platform.errors import DomainError, TooManyAttempts
from backend.platform.models import GuessThrottle
from backend.platform.orm import utcnow


@dataclass(frozen=True)
class Limit:
    failures: int  # wrong guesses within `window` that lock the key
    window: timedelta
    cooldown: timedelta


# One person guessing: ten wrong codes in 15 minutes is far beyond typing mistakes.
ACCOUNT = Limit(10, timedelta(minutes=15), timedelta(minutes=15))
# An address is shared by many people at a festival (a carrier's NAT, the venue's Wi-Fi): a few hundred phones behind
# one address must not lock each other out with their typing mistakes, while one machine trying many accounts is
# still stopped well before a 128-bit code (or a 40-bit, 60-second pass code) could be found.
ADDRESS = Limit(100, timedelta(minutes=15), timedelta(minutes=15))
# An account guessing from an address that is locked: a right code still goes through there, so guessing from one
# machine with many accounts is held by each account's share, kept small (a few typing mistakes).
ACCOUNT_AT_LOCKED_ADDRESS = Limit(3, timedelta(minutes=15), timedelta(minutes=15))


def _ensure_rows(session: Session, keys: list[str]) -> None:
    for key in keys:
        if session.get(GuessThrottle, key) is None:
            try:
                with session.begin_nested():  # two first requests under one key may race to create the row
                    session.add(GuessThrottle(key=key, failures=0, window_start=utcnow()))
            except IntegrityError:
                pass


def locked_until(parameter: str = "throttle_keys") -> ScalarSelect:
    """The latest lock among the keys given as the parameter `parameter` (a list), as a scalar subquery, so that a
    route can read it in the query it makes anyway (the claim route, which builds that query once)."""
    return (select(GuessThrottle.locked_until).where(GuessThrottle.key.in_(bindparam(parameter, expanding=True)))
            .order_by(GuessThrottle.locked_until.desc()).limit(1).scalar_subquery())


def is_locked(until: datetime | None) -> bool:
    return until is not None and until > utcnow()


def refuse_if_locked_until(until: datetime | None) -> None:
    """429 with Retry-After if `until` (from `locked_until`) is still to come."""
    now = utcnow()
    if until is not None and until > now:
        retry_after = int((until - now).total_seconds()) + 1
        raise TooManyAttempts("too_many_attempts", retry_after=retry_after)


def refuse_if_locked(session: Session, limits: dict[str, Limit]) -> None:
    """429 with Retry-After when any of the keys is locked (read afresh: another request may have locked it a moment
    ago)."""
    refuse_if_locked_until(session.scalar(select(locked_until()), {"throttle_keys": list(limits)}))


def count_failure(session: Session, limits: dict[str, Limit], reason: DomainError) -> NoReturn:
    """Counts one wrong guess under every key (committed at once), then raises 429 if that locked a key, else
    `reason`."""
    record_failure(session, limits)
    refuse_if_locked(session, limits)
    raise reason


def record_failure(session: Session, limits: dict[str, Limit]) -> None:
    """Counts one wrong guess under every key and locks a key that reached its limit (committed at once), without
    refusing this guess itself: for a caller that answers the guess that locks as it answers every wrong one, and
    refuses from the next (a log-in: ten wrong passwords are 401, the eleventh attempt is 429)."""
    now = utcnow()
    _ensure_rows(session, list(limits))
    for key, limit in limits.items():
        expired = GuessThrottle.window_start < now - limit.window
        failures = session.execute(
            update(GuessThrottle).where(GuessThrottle.key == key)
            .values(failures=case((expired, 1), else_=GuessThrottle.failures + 1),
                    window_start=case((expired, now), else_=GuessThrottle.window_start))
            .returning(GuessThrottle.failures).execution_options(synchronize_session=False)
        ).scalar_one()
        if failures >= limit.failures:
            session.execute(update(GuessThrottle).where(GuessThrottle.key == key)
                            .values(locked_until=now + limit.cooldown, failures=0)
                            .execution_options(synchronize_session=False))
    session.commit()


# ---------------------------------------------------------------------------------------------- rate limits


@dataclass(frozen=True)
class RateLimit:
    code: str  # the error code of the 429, naming the limit (its text is in the catalogs)
    count: int  # creations allowed per key within `window`
    window: timedelta


def take(session: Session, limits: dict[str, RateLimit], **params: object) -> None:
    """Counts one creation under every key, in the caller's transaction: it is committed with what is created, and a
    refusal (this one, or any later one of the request) rolls it back. A key that has had its `count` creations in its
    current window refuses with 429, Retry-After (until the window ends) and the limit's code; `params` name the
    subject in the message (e.g. the organization)."""
    now = utcnow()
    _ensure_rows(session, list(limits))
    for key, limit in limits.items():
        expired = GuessThrottle.window_start <= now - limit.window
        counted = session.execute(
            update(GuessThrottle).where(GuessThrottle.key == key, or_(expired, GuessThrottle.failures < limit.count))
            .values(failures=case((expired, 1), else_=GuessThrottle.failures + 1),
                    window_start=case((expired, now), else_=GuessThrottle.window_start))
            .execution_options(synchronize_session=False)
        ).rowcount
        if counted != 1:
            start = session.scalar(select(GuessThrottle.window_start).where(GuessThrottle.key == key))
            retry_after = max(1, ceil((start + limit.window - now).total_seconds()))
            raise TooManyAttempts(limit.code, retry_after=retry_after, limit=limit.count, **params)
