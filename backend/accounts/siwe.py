"""Sign-In with Ethereum (EIP-4361): single-use nonces, the message a wallet signs, and its verification. A member
proves a wallet of their own with it, to log in or to move their custodial wallet there.

Each message is bound to its purpose by its statement (what the wallet shows its owner): a message signed to log in
cannot move a custodial wallet, nor one signed for the move log in. Contract wallets (a Safe, a smart account) sign by
EIP-1271: when the signature does not recover to the message's address and that address has code, the node is asked
whether the wallet accepts it (`isValidSignature(hash, signature)` at the latest block)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Literal

from eth_abi import decode, encode
from eth_account.messages import defunct_hash_message
from siwe import InvalidSignature, SiweMessage
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from backend.accounts.models import SiweNonce
from backend.platform.errors import Invalid
from backend.platform.orm import utcnow
from backend.platform.security import new_secret

SIWE_NONCE_TTL = timedelta(minutes=10)
Purpose = Literal["login", "wallet_export"]
# What each message says to its signer, and what binds it to that purpose (EIP-4361 statements are ASCII, one line).
STATEMENTS: dict[str, str] = {
    "login": "Kyoso: log in with this wallet",
    "wallet_export": "Kyoso: move my badges and points from my Kyoso account to this wallet",
}
EIP1271_SELECTOR = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes), also its magic return value


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


def prepare_message(*, session: Session, address: str, base_url: str, chain_id: int,
                    purpose: Purpose = "login") -> str:
    """A ready SIWE message for `address` (checksummed, fresh nonce, this site and chain, the statement of `purpose`),
    for a wallet to sign with personal_sign: browsers need no Keccak of their own to build it."""
    message = SiweMessage(
        domain=_domain(base_url), address=Web3.to_checksum_address(address), uri=base_url, version="1",
        chain_id=chain_id, nonce=new_nonce(session=session)["nonce"],
        issued_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"), statement=STATEMENTS[purpose],
    )
    return message.prepare_message()


def _bytes(signature: str) -> bytes:
    try:
        return bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise Invalid("invalid_siwe", reason="invalid_signature") from None


def contract_wallet_accepts(*, w3: Web3, address: str, message_hash: bytes, signature: bytes) -> bool:
    """EIP-1271: whether the contract at `address` accepts `signature` of `message_hash`, asked at the latest block.
    False for an address without code, a wallet that reverts or answers anything but the magic value."""
    if not w3.eth.get_code(address, "latest"):
        return False
    data = EIP1271_SELECTOR + encode(["bytes32", "bytes"], [message_hash, signature])
    try:
        answer = w3.eth.call({"to": address, "data": "0x" + data.hex()}, "latest")
        (magic,) = decode(["bytes4"], bytes(answer))
    except (ContractLogicError, Web3RPCError, ValueError, TypeError):  # reverted, or not a bytes4 at all
        return False
    return magic == EIP1271_SELECTOR


def verify_siwe(*, session: Session, base_url: str, chain_id: int, message: str, signature: str,
                purpose: Purpose, w3: Web3 | None = None) -> str:
    """Checks a signed SIWE message (domain, chain, expiry, single-use nonce, its purpose, the signature: an EOA's,
    or, given the node `w3`, a contract wallet's by EIP-1271); returns its address. Refused with invalid_siwe and a
    `reason` code; the nonce is spent only by a message that passes every check."""
    try:
        parsed = SiweMessage.from_message(message=message)
    except Exception:  # noqa: BLE001 - any parse failure is the client's malformed message
        raise Invalid("invalid_siwe", reason="malformed_message") from None
    stored = session.get(SiweNonce, parsed.nonce)
    if stored is None or stored.used_at is not None or stored.expires_at < utcnow():
        raise Invalid("invalid_siwe", reason="nonce_unknown_used_or_expired")
    if parsed.statement != STATEMENTS[purpose]:
        # a message signed for another purpose (to log in, to move a wallet) must not serve this one
        raise Invalid("invalid_siwe", reason="wrong_purpose", purpose=purpose)
    try:
        parsed.verify(signature, domain=_domain(base_url), nonce=parsed.nonce, timestamp=datetime.now(timezone.utc))
    except InvalidSignature:
        if w3 is None or not contract_wallet_accepts(
                w3=w3, address=parsed.address, message_hash=bytes(defunct_hash_message(text=parsed.prepare_message())),
                signature=_bytes(signature)):
            raise Invalid("invalid_siwe", reason="invalid_signature") from None
    except Exception as exc:  # noqa: BLE001 - siwe raises one exception type per failed check
        raise Invalid("invalid_siwe", reason=_reason(exc)) from None
    if int(parsed.chain_id) != chain_id:
        raise Invalid("invalid_siwe", reason="wrong_chain", message_chain_id=int(parsed.chain_id), chain_id=chain_id)
    spent = session.execute(update(SiweNonce).where(SiweNonce.nonce == parsed.nonce, SiweNonce.used_at.is_(None))
                            .values(used_at=utcnow()))
    if spent.rowcount != 1:  # the same message sent twice at once: only one may use the nonce
        raise Invalid("invalid_siwe", reason="nonce_unknown_used_or_expired")
    return parsed.address


def purge_expired_nonces(*, session: Session, now: datetime, batch: int) -> int:
    """Deletes up to `batch` nonces that have expired, used or not (verify_siwe refuses an expired one either way):
    anyone may ask for nonces, and each is a row. Returns how many it deleted; the background worker calls it again
    while a batch comes back full (backend/relayer/housekeeping.py)."""
    expired = select(SiweNonce.nonce).where(SiweNonce.expires_at < now).limit(batch)
    deleted = session.execute(delete(SiweNonce).where(SiweNonce.nonce.in_(expired))
                              .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return deleted
