"""Addresses whose code turns badges down, and when to stop refusing them.

Badges are ERC-1155 tokens: issuing one to an address with code calls its receiver hook. A member who signs in with
an own wallet chooses that address, and its hook may revert, burn the gas the contract gives it or change its mind
between the relayer's estimate and the block. The relayer isolates such a claim (backend/relayer/service.py,
`_sort_out_claims`), fails it with the hook's reason and stores the address with the hash of the code it had. A later
claim of a badge for that address, or a move of a custodial wallet to it, is refused while the code is the same:
asking again would only fail again. Only addresses in this table cost a chain read (eth_getCode) when they claim; a
claim of any other address reads one more row in the claim's single query.
"""

from __future__ import annotations

from eth_utils import keccak
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.claims.models import RefusingRecipient
from backend.platform.errors import Conflict
from backend.platform.orm import utcnow


def code_hash(w3: Web3, address: str) -> str:
    """keccak256 of the code at `address` now (an EIP-7702 account's is its delegation designator)."""
    return "0x" + keccak(bytes(w3.eth.get_code(address, "latest"))).hex()


def record(session: Session, *, address: str, code: str, reason: str) -> None:
    """Remembers that `address`, with the code whose hash is `code`, turned a badge down for `reason`."""
    refusal = session.get(RefusingRecipient, address)
    if refusal is None:
        session.add(RefusingRecipient(address=address, code_hash=code, reason=reason[:500], created_at=utcnow()))
    else:
        refusal.code_hash, refusal.reason, refusal.created_at = code, reason[:500], utcnow()


def refuse_if_unchanged(*, stored_hash: str | None, current_hash: str | None, address: str) -> bool:
    """Raises recipient_refuses_badges (409) when `address` turned a badge down and still has the same code. True
    when a refusal was stored but the code has changed since: the caller forgets it (`forget`) with its write."""
    if stored_hash is None:
        return False
    if current_hash == stored_hash:
        raise Conflict("recipient_refuses_badges", address=address)
    return True


def forget(session_or_connection, *, address: str, stored_hash: str) -> None:
    """The address's code changed since it turned a badge down: its badges are sent again. Only the refusal that was
    read is removed (the relayer may have stored a newer one meanwhile)."""
    session_or_connection.execute(delete(RefusingRecipient).where(RefusingRecipient.address == address,
                                                                  RefusingRecipient.code_hash == stored_hash))


def stored_hash_of(session: Session, address: str) -> str | None:
    return session.scalar(select(RefusingRecipient.code_hash).where(RefusingRecipient.address == address))
