"""Passwords, random secrets and their hashes.

Passwords are hashed with argon2id. Every other secret the backend hands out (access tokens, claim codes, invitation
tokens) is 128+ bits from `secrets` and stored only as its SHA-256: a high-entropy secret needs no slow hash, and a
lookup by hash stays an index lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
SECRET_BYTES = 16  # 128 bits: claim codes, kiosk seeds
TOKEN_BYTES = 32  # 256 bits: access and invitation tokens


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    return secrets.token_urlsafe(nbytes)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
