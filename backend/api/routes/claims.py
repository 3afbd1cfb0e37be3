"""Claiming a badge: a code from a printed sheet, the kiosk's rotating code, or the event's secret word.

A claim is answered at once with `accepted` (stored; nothing is lost from here on) and the relayer takes it on to
`submitted` and `confirmed`. Guessing is throttled per account and per IP address.
"""

from __future__ import annotations

import hmac
import time
import unicodedata

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.api.errors import errors
from backend.api.routes.events import (
    KIOSK_EXPIRED_LOOKBACK,
    KIOSK_GRACE_PERIODS,
    kiosk_code,
    kiosk_period,
)
from backend.organizations import gas_budget
from backend.platform import throttle
from backend.platform.security import secret_hash
from backend.api.deps import CurrentUser, DbId, LoopSessionDep, LoopUser, SessionDep, SettingsDep, WritesDep, client_ip
from backend.accounts.models import ExportStatus, WalletExport
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.models import ClaimCode, Event
from backend.platform.orm import utcnow
from backend.claims.schemas import ClaimCreate, ClaimPublic

router = APIRouter(tags=["claims"])

# This route's statements, built once: at a festival it is the hot path, and building a statement (and its cache key)
# on every request cost more Python than SQLite spends running it (py-spy, docs/benchmarks.md).
# Everything the answer depends on, in one query before anything is written.
_FOUND = (select(Event, throttle.locked_until(),
                 exists().where(WalletExport.user_id == bindparam("user_id"),
                                WalletExport.status.in_((ExportStatus.pending, ExportStatus.submitted))),
                 Claim.id, Claim.status)
          .outerjoin(Claim, and_(Claim.event_id == Event.id, Claim.user_id == bindparam("user_id")))
          .where(Event.id == bindparam("event_id")))
_DELETE_FAILED = delete(Claim).where(Claim.id == bindparam("claim_id"), Claim.status == ClaimStatus.failed)
_HOLDERS = select(func.count()).select_from(Claim).where(Claim.event_id == bindparam("event_id"),
                                                         Claim.status != ClaimStatus.failed)
_SPEND_CODE = (update(ClaimCode).where(ClaimCode.code_hash == bindparam("spent_code"), ClaimCode.used_at.is_(None))
               .values(used_at=bindparam("now")))
_STORE = insert(Claim).returning(Claim.id)


def claim_public(claim: Claim, explorer_tx_url: str) -> ClaimPublic:
    sent = claim.tx is not None and claim.status in (ClaimStatus.submitted, ClaimStatus.confirmed)
    tx_hash = claim.tx.tx_hash if sent else None
    return ClaimPublic(
        id=claim.id, event_id=claim.event_id, status=claim.status, recipient=claim.recipient, method=claim.method,
        tx_hash=tx_hash, block_number=claim.tx.block_number if claim.tx is not None else None,
        explorer_url=explorer_tx_url.format(hash=tx_hash) if tx_hash and explorer_tx_url else None,
        failure=claim.failure, created_at=claim.created_at, confirmed_at=claim.confirmed_at,
    )


WRONG = object()  # _check_secret's answer to a wrong secret


def _wrong() -> HTTPException:
    return HTTPException(400, {"error": "invalid_code", "message": "This code is not valid for this event. / "
                                                                   "このコードはこのイベントでは使えません。"})


def _count_failure(session: Session, limits: dict[str, throttle.Limit]) -> None:
    try:
        throttle.count_failure(session, limits, _wrong())
    finally:
        session.close()


def _check_secret(session: Session, event: Event, body: ClaimCreate):
    """The code row to consume (printed codes), None (the kiosk's code or the word is right), or WRONG; raises 410
    for a spent code or an expired kiosk code."""
    if body.method == ClaimMethod.code:
        code = session.get(ClaimCode, secret_hash(body.secret))
        if code is None or code.event_id != event.id:
            return WRONG
        if code.used_at is not None:
            raise HTTPException(410, {"error": "code_already_used",
                                      "message": "This code has already been used. / このコードは使用済みです。"})
        return code
    if body.method == ClaimMethod.kiosk:
        typed = unicodedata.normalize("NFKC", body.secret).strip()
        now = kiosk_period(time.time())
        for back in range(KIOSK_EXPIRED_LOOKBACK + 1):
            # NFKC: full-width digits typed with a Japanese input method are the same code
            if hmac.compare_digest(kiosk_code(event.kiosk_seed, now - back).encode(), typed.encode()):
                if back <= KIOSK_GRACE_PERIODS:
                    return None
                raise HTTPException(410, {"error": "kiosk_code_expired",
                                          "message": "This code has expired: scan the screen again. / "
                                                     "コードの有効期限が切れました。もう一度読み取ってください。"})
        return WRONG
    if event.word_hash is None or not hmac.compare_digest(secret_hash(body.secret.casefold()), event.word_hash):
        return WRONG
    return None


@router.post("/events/{event_id}/claims", response_model=ClaimPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(400, 402, 403, 409, 410, 429))
async def claim(event_id: DbId, body: ClaimCreate, request: Request, session: LoopSessionDep, settings: SettingsDep,
                user: LoopUser, writes: WritesDep):
    """Claims the event's badge for the caller's wallet. Answers at once with `accepted`; follow it with
    GET /claims/{id}."""
    limits = {f"user:{user.id}": throttle.ACCOUNT, f"ip:{client_ip(request)}": throttle.ADDRESS}
    found = session.execute(_FOUND, {"event_id": event_id, "user_id": user.id,
                                     "throttle_keys": list(limits)}).one_or_none()
    if found is None:
        raise HTTPException(404, {"error": "event_not_found", "message": "No such event. / イベントが見つかりません。"})
    event, locked_until, exporting, existing_id, existing_status = found
    throttle.refuse_if_locked_until(locked_until)
    if exporting:
        raise HTTPException(409, {"error": "wallet_moving",
                                  "message": "Your badges are moving to your own wallet; claim again in a minute. / "
                                             "ウォレットの移行中です。少し待ってからお試しください。"},
                            headers={"Retry-After": "30"})
    if existing_id is not None and existing_status != ClaimStatus.failed:
        raise HTTPException(409, {"error": "already_claimed",
                                  "message": "You already have this badge. / このバッジは受け取り済みです。",
                                  "claim_id": existing_id})
    code = _check_secret(session, event, body)
    if code is WRONG:  # counted in a thread: a write, which may wait for the writer lock, never on the loop
        session.close()  # no connection held across an await (see the vote route)
        await run_in_threadpool(_count_failure, session, limits)
    now = utcnow()
    if not event.claim_start <= now <= event.claim_end:
        raise HTTPException(403, {"error": "claim_window_closed",
                                  "message": f"Badges of this event can be claimed from {event.claim_start.isoformat()}"
                                             f" to {event.claim_end.isoformat()}. / 受け取り期間外です。",
                                  "claim_start": event.claim_start.isoformat(),
                                  "claim_end": event.claim_end.isoformat()})

    def store(tx: Connection) -> int:
        # Run by the group committer (backend/platform/group_commit.py): the code is spent, the gas reserved and the claim
        # stored together, or none of them; the capacity is counted here, where no other claim's write runs beside it.
        if existing_id is not None:  # a claim that failed for good may be made again
            tx.execute(_DELETE_FAILED, {"claim_id": existing_id})
        if event.capacity and tx.scalar(_HOLDERS, {"event_id": event_id}) >= event.capacity:
            raise HTTPException(409, {"error": "event_full",
                                      "message": "All badges of this event have been given out. / "
                                                 "このイベントのバッジはすべて配布されました。"})
        if not gas_budget.reserve(tx, event.organization_id):
            raise HTTPException(402, {"error": "gas_budget_exhausted",
                                      "message": "The organizer's badge budget is used up; please tell the "
                                                 "organizer. / 主催者のバッジ発行予算が上限に達しました。"
                                                 "主催者にお知らせください。"})
        if code is not None and tx.execute(_SPEND_CODE, {"spent_code": code.code_hash, "now": now}).rowcount != 1:
            raise HTTPException(410, {"error": "code_already_used",
                                      "message": "This code has already been used. / このコードは使用済みです。"})
        return tx.execute(_STORE, {"user_id": user.id, "event_id": event_id, "recipient": user.wallet_address,
                                   "method": body.method, "status": ClaimStatus.accepted, "attempts": 0,
                                   "created_at": now}).scalar_one()

    session.close()  # the reads are done: the request holds no connection while its write waits for its group
    try:
        stored = await writes.run_async(store)
    except IntegrityError:  # the same member's claim in parallel won
        raise HTTPException(409, {"error": "already_claimed",
                                  "message": "You already have this badge. / このバッジは受け取り済みです。"}) from None
    return claim_public(Claim(id=stored, user_id=user.id, event_id=event_id, recipient=user.wallet_address,
                              method=body.method, status=ClaimStatus.accepted, attempts=0, created_at=now),
                        settings.explorer_tx_url)


@router.get("/claims/{claim_id}", response_model=ClaimPublic)
def read_claim(claim_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    claim_row = session.get(Claim, claim_id)
    if claim_row is None or claim_row.user_id != user.id:
        raise HTTPException(404, {"error": "claim_not_found", "message": "No such claim."})
    return claim_public(claim_row, settings.explorer_tx_url)


@router.get("/me/claims", response_model=list[ClaimPublic])
def my_claims(session: SessionDep, settings: SettingsDep, user: CurrentUser):
    rows = session.scalars(select(Claim).where(Claim.user_id == user.id).order_by(Claim.id.desc())).all()
    return [claim_public(c, settings.explorer_tx_url) for c in rows]
