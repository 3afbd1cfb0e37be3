"""The kiosk's rotating code: an HMAC of the current 30-second period under the event's seed, like an authenticator
app's, shown on a screen at the venue."""

from __future__ import annotations

import hashlib
import hmac
import time
import unicodedata

from backend.platform.errors import Gone

KIOSK_PERIOD_S = 30  # a kiosk code changes every 30 seconds, like an authenticator app
KIOSK_GRACE_PERIODS = 1  # the previous code still works: a phone may scan just before it changes
KIOSK_EXPIRED_LOOKBACK = 240  # older codes (up to 2 hours) are recognised as expired rather than wrong
KIOSK_DIGITS = 10


def kiosk_code(seed: bytes, period: int) -> str:
    digest = hmac.new(seed, period.to_bytes(8, "big"), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**KIOSK_DIGITS).zfill(KIOSK_DIGITS)


def kiosk_period(now: float | None = None) -> int:
    return int((now if now is not None else time.time()) // KIOSK_PERIOD_S)


def valid_for_s(now: float) -> int:
    """Seconds until the code of `now`'s period changes."""
    return KIOSK_PERIOD_S - int(now % KIOSK_PERIOD_S)


def kiosk_code_matches(*, seed: bytes, typed: str, now: float | None = None) -> bool:
    """Whether `typed` is the code of the current or the previous period; Gone("kiosk_code_expired") for an older
    one (the attendee scanned a photo, or waited too long), False for a wrong one."""
    # NFKC: full-width digits typed with a Japanese input method are the same code
    typed_bytes = unicodedata.normalize("NFKC", typed).strip().encode()
    current = kiosk_period(now)
    for back in range(KIOSK_EXPIRED_LOOKBACK + 1):
        if hmac.compare_digest(kiosk_code(seed, current - back).encode(), typed_bytes):
            if back <= KIOSK_GRACE_PERIODS:
                return True
            raise Gone("kiosk_code_expired")
    return False
