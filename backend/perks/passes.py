"""The member's pass at the counter: a token signed by the backend (HMAC-SHA256 under a key derived from
KYOSO_SECRET_KEY), bound to the pass, the perk, the member and an expiry 60 s ahead, plus a short code for typing.

The token is what the QR code carries; the short code (8 characters without look-alikes such as 0/O and 1/I/L)
finds the same stored pass. Both are single use: the pass row's `used_at` is set once, in the redemption's own
database transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

PASS_TTL_S = 60
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8
TOKEN_VERSION = "v1"
_KEY_LABEL = b"kyoso perk pass v1"  # a key of its own: a pass signature is never valid for anything else


@dataclass(frozen=True)
class PassClaims:
    pass_id: str
    perk_id: int
    user_id: int
    expires: int  # unix seconds


def pass_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()


def new_pass_id() -> str:
    return secrets.token_urlsafe(12)


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, claims: PassClaims) -> str:
    body = f"{TOKEN_VERSION}.{claims.pass_id}.{claims.perk_id}.{claims.user_id}.{claims.expires}"
    return f"{body}.{_mac(key, body)}"


def verify(key: bytes, token: str) -> PassClaims | None:
    """The token's claims if the backend signed it (expired or not: the caller says which), else None."""
    body, _, mac = token.strip().rpartition(".")
    parts = body.split(".")
    if len(parts) != 5 or parts[0] != TOKEN_VERSION or not hmac.compare_digest(_mac(key, body), mac):
        return None
    try:
        return PassClaims(parts[1], int(parts[2]), int(parts[3]), int(parts[4]))
    except ValueError:
        return None


def new_short_code() -> str:
    raw = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_short_code(typed: str) -> str | None:
    """As typed at a counter: full-width characters (a Japanese input method), lower case, spaces and dashes are
    fine. None if it cannot be a short code."""
    raw = "".join(c for c in unicodedata.normalize("NFKC", typed).upper() if c.isalnum())
    if len(raw) != SHORT_CODE_LENGTH or any(c not in SHORT_CODE_ALPHABET for c in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


def short_code_hash(code: str) -> str:
    return hashlib.sha256(f"perk-pass:{code}".encode()).hexdigest()
