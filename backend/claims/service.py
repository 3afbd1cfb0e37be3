"""Claiming a badge: a code from a printed sheet, the kiosk's rotating code, or the event's secret word.

A claim is answered at once with `accepted` (stored; nothing is lost from here on) and the relayer takes it on to
`submitted` and `confirmed`. Guessing is throttled per account and per IP address.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone

import anyio.to_thread
from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3 import Web3

from backend.accounts.models import ExportStatus, User, WalletExport
from backend.claims import refusals
from backend.claims.models import Claim, ClaimMethod, ClaimStatus, RefusingRecipient
from backend.claims.schemas import ClaimPublic
from backend.events.models import ClaimCode, Event
from backend.events.service import kiosk_code_matches
from backend.organizations import allowance, gas_budget
from backend.organizations.models import IssuingLimits, Organization
from backend.organizations.service import refuse_unless_issuing
from backend.platform import throttle
from backend.platform.errors import Conflict, Forbidden, Gone, Invalid, NotFound, PaymentRequired, Unavailable
from backend.platform.group_commit import GroupCommitter
from backend.platform.models import IndexerCursor
from backend.platform.orm import utcnow
from backend.platform.paging import DEFAULT_LIMIT, Paged, page_of
from backend.platform.security import secret_hash

WALLET_MOVING_RETRY_AFTER_S = 30  # a wallet export is one transaction, confirmed within a few blocks
CHAIN_RETRY_AFTER_S = 10  # a stalled node usually answers again within seconds

# The claim's statements, built once: at a festival it is the hot path, and building a statement (and its cache key)
# on every request cost more Python than SQLite spends running it (py-spy, docs/benchmarks.md).
# Everything the answer depends on, in one query before anything is written.
_FOUND = (select(Event, throttle.locked_until("account_keys"), throttle.locked_until("address_keys"),
                 exists().where(WalletExport.user_id == bindparam("user_id"),
                                WalletExport.status.in_((ExportStatus.pending, ExportStatus.submitted))),
                 Claim.id, Claim.status, Organization.status, Organization.name_en,
                 # the code of the member's address when its hook turned a badge down (backend/claims/refusals.py):
                 # one primary-key lookup that finds nothing for nearly every claim
                 select(RefusingRecipient.code_hash).where(RefusingRecipient.address == bindparam("wallet"))
                 .scalar_subquery(),
                 IssuingLimits.max_event_points, IssuingLimits.default_allowance, IssuingLimits.allowance_period_s)
          .join(Organization, Organization.id == Event.organization_id)
          .outerjoin(Claim, and_(Claim.event_id == Event.id, Claim.user_id == bindparam("user_id")))
          .outerjoin(IssuingLimits, IssuingLimits.id == allowance.LIMITS_ROW)
          .where(Event.id == bindparam("event_id")))
_DELETE_FAILED = delete(Claim).where(Claim.id == bindparam("claim_id"), Claim.status == ClaimStatus.failed)
_HOLDERS = select(func.count()).select_from(Claim).where(Claim.event_id == bindparam("event_id"),
                                                         Claim.status != ClaimStatus.failed)
_SPEND_CODE = (update(ClaimCode).where(ClaimCode.code_hash == bindparam("spent_code"), ClaimCode.used_at.is_(None))
               .values(used_at=bindparam("now")))
_STORE = insert(Claim).returning(Claim.id)


def finalized_block(session: Session) -> int | None:
    """The node's `finalized` block as the indexer last saw it (None: not known, or the node has no such tag)."""
    return session.scalar(select(IndexerCursor.finalized_block).where(IndexerCursor.name == "contracts"))


def claim_public(claim: Claim, explorer_tx_url: str, finalized: int | None = None) -> ClaimPublic:
    """`finalized`: the node's finalized block, below which a confirmed claim can no longer be reorganised away."""
    sent = claim.tx is not None and claim.status in (ClaimStatus.submitted, ClaimStatus.confirmed)
    tx_hash = claim.tx.tx_hash if sent else None
    block = claim.tx.block_number if claim.tx is not None else None
    return ClaimPublic(
        id=claim.id, event_id=claim.event_id, status=claim.status, recipient=claim.recipient, method=claim.method,
        tx_hash=tx_hash, block_number=block,
        finalized=claim.status == ClaimStatus.confirmed and None not in (block, finalized) and block <= finalized,
        explorer_url=explorer_tx_url.format(hash=tx_hash) if tx_hash and explorer_tx_url else None,
        failure=claim.failure, created_at=claim.created_at, confirmed_at=claim.confirmed_at,
    )


WRONG = object()  # _check_secret's answer to a wrong secret


def _count_failure(session: Session, limits: dict[str, throttle.Limit]) -> None:
    try:
        throttle.count_failure(session, limits, Invalid("invalid_code"))
    finally:
        session.close()


def _check_secret(session: Session, event: Event, method: ClaimMethod, secret: str):
    """The code row to consume (printed codes), None (the kiosk's code or the word is right), or WRONG; raises
    Gone for a spent code or an expired kiosk code."""
    if method == ClaimMethod.code:
        code = session.get(ClaimCode, secret_hash(secret))
        if code is None or code.event_id != event.id:
            return WRONG
        if code.used_at is not None:
            raise Gone("code_already_used")
        return code
    if method == ClaimMethod.kiosk:
        return None if kiosk_code_matches(seed=event.kiosk_seed, typed=secret) else WRONG
    if event.word_hash is None or not hmac.compare_digest(secret_hash(secret.casefold()), event.word_hash):
        return WRONG
    return None


async def accept_claim(*, session: Session, writes: GroupCommitter, user: User, event_id: int, method: ClaimMethod,
                       secret: str, client_ip: str, explorer_tx_url: str, w3: Web3 | None = None) -> ClaimPublic:
    """Claims the event's badge for the user's wallet: stored as `accepted`, with the code spent and the gas
    reserved, or refused. Runs on the event loop: `session` serves the reads and is closed before any await (no
    connection is held while the write waits for its group); the write goes through the group committer. `w3`, the
    node, is asked only for an address whose code turned a badge down before (backend/claims/refusals.py)."""
    account_key, address_key = f"user:{user.id}", f"ip:{client_ip}"
    found = session.execute(_FOUND, {"event_id": event_id, "user_id": user.id, "account_keys": [account_key],
                                     "address_keys": [address_key], "wallet": user.wallet_address}).one_or_none()
    if found is None:
        raise NotFound("event_not_found")
    (event, account_locked_until, address_locked_until, exporting, existing_id, existing_status, org_status, org_name,
     refused_code, *limit_values) = found
    # A locked account is refused outright. A locked address is not: hundreds of attendees share the venue's Wi-Fi or
    # a carrier's address, and a right code is theirs whatever others typed there; only a wrong guess from it is
    # refused (429, by the count below), and counted against the account under a smaller limit.
    throttle.refuse_if_locked_until(account_locked_until)
    refuse_unless_issuing(org_status, org_name)
    if exporting:
        raise Conflict("wallet_moving", retry_after=WALLET_MOVING_RETRY_AFTER_S)
    if existing_id is not None and existing_status != ClaimStatus.failed:
        raise Conflict("already_claimed", claim_id=existing_id)
    code = _check_secret(session, event, method, secret)
    if code is WRONG:  # counted in a thread: a write, which may wait for the writer lock, never on the loop
        session.close()  # no connection held across an await (see the vote route)
        account = throttle.ACCOUNT_AT_LOCKED_ADDRESS if throttle.is_locked(address_locked_until) else throttle.ACCOUNT
        await anyio.to_thread.run_sync(_count_failure, session, {account_key: account, address_key: throttle.ADDRESS})
    now = utcnow()
    limits = allowance.Limits(*limit_values) if limit_values[0] is not None else None
    if not event.claim_start <= now <= event.claim_end:
        raise Forbidden("claim_window_closed", claim_start=event.claim_start.isoformat(),
                        claim_end=event.claim_end.isoformat())
    session.close()  # the reads are done: the request holds no connection while it awaits the node or its write
    code_changed = False
    if refused_code is not None:
        code_changed = refusals.refuse_if_unchanged(stored_hash=refused_code, address=user.wallet_address,
                                                    current_hash=await _code_hash(w3, user.wallet_address))

    def store(tx: Connection) -> int:
        # Run by the group committer (backend/platform/group_commit.py): the code is spent, the gas reserved and the
        # claim stored together, or none of them; the capacity is counted here, where no other claim's write runs
        # beside it.
        if existing_id is not None:  # a claim that failed for good may be made again
            tx.execute(_DELETE_FAILED, {"claim_id": existing_id})
        if code_changed:
            refusals.forget(tx, address=user.wallet_address, stored_hash=refused_code)
        if event.capacity and tx.scalar(_HOLDERS, {"event_id": event_id}) >= event.capacity:
            raise Conflict("event_full")
        if not gas_budget.reserve(tx, event.organization_id):
            raise PaymentRequired("gas_budget_exhausted", organization=org_name)
        if not allowance.reserve(tx, event.organization_id, event.points, limits, now):
            raise Conflict("points_allowance_exhausted", organization=org_name, points=event.points,
                           resets_at=datetime.fromtimestamp(limits.window_end(now) + 1, timezone.utc).isoformat())
        if code is not None and tx.execute(_SPEND_CODE, {"spent_code": code.code_hash, "now": now}).rowcount != 1:
            raise Gone("code_already_used")
        return tx.execute(_STORE, {"user_id": user.id, "event_id": event_id, "recipient": user.wallet_address,
                                   "method": method, "status": ClaimStatus.accepted, "attempts": 0,
                                   "created_at": now}).scalar_one()

    try:
        stored = await writes.run_async(store)
    except IntegrityError:  # the same member's claim in parallel won
        raise Conflict("already_claimed") from None
    return claim_public(Claim(id=stored, user_id=user.id, event_id=event_id, recipient=user.wallet_address,
                              method=method, status=ClaimStatus.accepted, attempts=0, created_at=now),
                        explorer_tx_url)


async def _code_hash(w3: Web3 | None, address: str) -> str:
    """The hash of the code at `address`, read in a thread (a call to the node never blocks the loop)."""
    if w3 is None:
        raise Unavailable("chain_unavailable", retry_after=CHAIN_RETRY_AFTER_S)
    try:
        return await anyio.to_thread.run_sync(refusals.code_hash, w3, address)
    except Exception as exc:  # noqa: BLE001 - the node is unreachable or answered garbage: ask again in a moment
        raise Unavailable("chain_unavailable", retry_after=CHAIN_RETRY_AFTER_S) from exc


def read_claim(*, session: Session, user: User, claim_id: int, explorer_tx_url: str) -> ClaimPublic:
    """One of the user's own claims (another member's is as unknown as a claim that does not exist)."""
    claim = session.get(Claim, claim_id)
    if claim is None or claim.user_id != user.id:
        raise NotFound("claim_not_found")
    return claim_public(claim, explorer_tx_url, finalized_block(session))


def claims_of(*, session: Session, user: User, explorer_tx_url: str, limit: int = DEFAULT_LIMIT,
              offset: int = 0) -> Paged[ClaimPublic]:
    """The user's claims, newest first, a page of `limit` from `offset`."""
    finalized = finalized_block(session)
    return page_of(session, select(Claim).where(Claim.user_id == user.id).order_by(Claim.id.desc()),
                   limit=limit, offset=offset).map(lambda c: claim_public(c, explorer_tx_url, finalized))
