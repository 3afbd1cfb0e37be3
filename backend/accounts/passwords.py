"""Checking a password, throttled: at log-in (per address typed and per client address) and when a logged-in member
confirms it again before something that cannot be undone (deleting the account, moving the wallet, changing the
password: per account and per client address).

Wrong passwords count in backend/platform/throttle.py: the tenth within 15 minutes under a key locks it for 15 minutes,
and from the eleventh attempt on, right or wrong, the answer is 429 with Retry-After. Log-in counts under the address
typed, whether or not it has an account, so that the lock itself tells nothing about which addresses do; and an
address that has no account is checked against a dummy argon2 hash, so that it takes as long to refuse as a wrong
password does. A client address is locked for everyone behind it after a hundred wrong passwords in 15 minutes (a
festival's NAT makes typing mistakes, not a hundred of them): unlike a claim code, a password that is right after a
hundred wrong ones from one place is no typing mistake.
"""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.platform import throttle
from backend.platform.errors import TooManyAttempts, Unauthorized
from backend.platform.orm import utcnow
from backend.platform.security import hash_password, new_secret, secret_hash, verify_password


@functools.cache
def dummy_hash() -> str:
    """An argon2 hash of a random password nobody knows, with the parameters of every real one."""
    return hash_password(new_secret(32))


def mailbox_key(email: str) -> str:
    """An e-mail address as a throttle key: its hash, so that the throttle table holds no address."""
    return secret_hash(email.strip().lower())[:32]


def login_limits(email: str, client_ip: str | None) -> dict[str, throttle.Limit]:
    limits = {f"login:mailbox:{mailbox_key(email)}": throttle.ACCOUNT}
    if client_ip is not None:
        limits[f"password:ip:{client_ip}"] = throttle.ADDRESS
    return limits


def recheck_limits(user: User, client_ip: str | None) -> dict[str, throttle.Limit]:
    limits = {f"password:user:{user.id}": throttle.ACCOUNT}
    if client_ip is not None:
        limits[f"password:ip:{client_ip}"] = throttle.ADDRESS
    return limits


def refuse_if_locked(session: Session, limits: dict[str, throttle.Limit]) -> None:
    until = session.scalar(select(throttle.locked_until()), {"throttle_keys": list(limits)})
    if throttle.is_locked(until):
        raise TooManyAttempts("too_many_password_attempts",
                              retry_after=int((until - utcnow()).total_seconds()) + 1)


def matches(user: User | None, password: str) -> bool:
    """Whether `password` is the account's; as slow for no account (or one without a password) as for a wrong one."""
    if user is None or user.password_hash is None:
        verify_password(dummy_hash(), password)
        return False
    return verify_password(user.password_hash, password)


def check(session: Session, user: User | None, password: str, limits: dict[str, throttle.Limit]) -> User:
    """The account, if `password` is its own; else the wrong guess is counted and 401 `invalid_credentials`. 429 while
    any of the keys is locked, before the password is even looked at."""
    refuse_if_locked(session, limits)
    if not matches(user, password):
        throttle.record_failure(session, limits)
        raise Unauthorized("invalid_credentials")
    return user


def check_again(*, session: Session, user: User, password: str, client_ip: str | None) -> None:
    """A logged-in member confirms the password before an act that cannot be undone."""
    check(session, user, password, recheck_limits(user, client_ip))
