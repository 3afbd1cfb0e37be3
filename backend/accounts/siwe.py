"""Sign-In with Ethereum (EIP-4361): single-use nonces, the message a wallet signs, and its verification. A member
proves a wallet of their own with it, to log in or to move their custodial wallet there."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from siwe import SiweMessage
from sqlalchemy import update
from sqlalchemy.orm import Session
from web3 import Web3

from backend.accounts.models import SiweNonce
from backend.platform.errors import Invalid
from backend.platform.orm import utcnow
from backend.platform.security import new_secret

SIWE_NONCE_TTL = timedelta(minutes=10)
STATEMENT = "Kyoso: link this wallet to my account"


def _domain(base_url: str) -> str:
    """The host (and port) of the site, as a SIWE message names it."""
    return base_url.split("//", 1)[-1].split("/", 1)[0]


def _reason(exception: Exception) -> str:
    """siwe raises one exception type per failed check (ExpiredMessage, InvalidSignature...): its name as a code."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exception).__name__).lower()


def new_nonce(*, session: Session) -> dict:
    """A single-use nonce for a SIWE message, valid for SIWE_NONCE_TTL."""
    nonce = new_secret(12).replace("-", "a").replace("_", "b")  # SIWE nonces are alphanumeric
    session.add(SiweNonce(nonce=nonce, expires_at=utcnow() + SIWE_NONCE_TTL))
    session.commit()
    return {"nonce": nonce, "expires_in_s": int(SIWE_NONCE_TTL.total_seconds())}


def prepare_message(*, session: Session, address: str, base_url: str, chain_id: int) -> str:
    """A ready SIWE message for `address` (checksummed, fresh nonce, this site and chain), for a wallet to sign with
    personal_sign: browsers need no Keccak of their own to build it."""
    message = SiweMessage(
        domain=_domain(base_url), address=Web3.to_checksum_address(address), uri=base_url, version="1",
        chain_id=chain_id, nonce=new_nonce(session=session)["nonce"],
        issued_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"), statement=STATEMENT,
    )
    return message.prepare_message()


def verify_siwe(*, session: Session, base_url: str, chain_id: int, message: str, signature: str) -> str:
    """Checks a signed SIWE message (domain, chain, expiry, single-use nonce, signature); returns its address.
    Refused with invalid_siwe and a `reason` code."""
    try:
        parsed = SiweMessage.from_message(message=message)
    except Exception:  # noqa: BLE001 - any parse failure is the client's malformed message
        raise Invalid("invalid_siwe", reason="malformed_message") from None
    stored = session.get(SiweNonce, parsed.nonce)
    if stored is None or stored.used_at is not None or stored.expires_at < utcnow():
        raise Invalid("invalid_siwe", reason="nonce_unknown_used_or_expired")
    try:
        parsed.verify(signature, domain=_domain(base_url), nonce=parsed.nonce, timestamp=datetime.now(timezone.utc))
    except Exception as exc:  # noqa: BLE001 - siwe raises one exception type per failed check
        raise Invalid("invalid_siwe", reason=_reason(exc)) from None
    if int(parsed.chain_id) != chain_id:
        raise Invalid("invalid_siwe", reason="wrong_chain", message_chain_id=int(parsed.chain_id), chain_id=chain_id)
    spent = session.execute(update(SiweNonce).where(SiweNonce.nonce == parsed.nonce, SiweNonce.used_at.is_(None))
                            .values(used_at=utcnow()))
    if spent.rowcount != 1:  # the same message sent twice at once: only one may use the nonce
        raise Invalid("invalid_siwe", reason="nonce_unknown_used_or_expired")
    return parsed.address
