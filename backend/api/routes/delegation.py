"""Delegation: a member gives their voting power to someone they trust, and takes it back, without gas
(`delegateBySig`, relayed). Custodial members' delegations are signed by the backend; own-wallet members sign the
EIP-712 Delegation from GET /me/delegation/typed-data in their wallet."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from backend.api.errors import errors
from backend.platform.chain.eip712 import for_wallet, normalized_signature, recover_typed, sign_typed, typed_data
from backend.platform.keys import SealedKey
from backend.api.deps import CurrentUser, ServicesDep, SessionDep
from backend.governance import ballots
from backend.accounts.models import User, WalletKind
from backend.claims.models import PointsBalance
from backend.governance.models import Delegation, RelayStatus
from backend.governance.schemas import DelegationCreate, DelegationPublic, DelegationStatePublic

router = APIRouter(prefix="/me/delegation", tags=["governance"])

DELEGATION_VALID_S = 3600  # a signed delegation is valid for an hour; the relayer sends it within seconds


def delegation_public(row: Delegation) -> DelegationPublic:
    return DelegationPublic(id=row.id, delegator=row.delegator, delegatee=row.delegatee, status=row.status.value,
                            failure=row.failure, created_at=row.created_at)


def _pending(session, user: User) -> Delegation | None:
    return session.scalar(select(Delegation).where(
        Delegation.delegator == user.wallet_address,
        Delegation.status.in_((RelayStatus.accepted, RelayStatus.submitted))))


@router.get("", response_model=DelegationStatePublic)
def delegation_state(session: SessionDep, services: ServicesDep, user: CurrentUser):
    """Whom the member's points vote for, and the member's points and voting power (from the indexer)."""
    balance = session.get(PointsBalance, user.wallet_address)
    pending = _pending(session, user)
    return DelegationStatePublic(
        address=user.wallet_address, delegate=services.contracts.points.functions.delegates(user.wallet_address).call(),
        points=balance.balance if balance else 0, voting_power=balance.votes if balance else 0,
        pending=delegation_public(pending) if pending else None)


@router.get("/typed-data")
def delegation_to_sign(services: ServicesDep, user: CurrentUser, delegatee: str = Query(pattern=r"^0x[0-9a-fA-F]{40}$")) -> dict:
    """The EIP-712 Delegation for the caller's wallet to sign; send it back with nonce, expiry and signature."""
    points = services.contracts.points
    primary, types, message = ballots.delegation(points.w3.to_checksum_address(delegatee),
                                                 points.functions.nonces(user.wallet_address).call(),
                                                 int(time.time()) + DELEGATION_VALID_S)
    return for_wallet(typed_data(ballots.domain_of(points), primary, types, message))


@router.post("", response_model=DelegationPublic, status_code=status.HTTP_202_ACCEPTED, responses=errors(400, 409))
def delegate(body: DelegationCreate, request: Request, session: SessionDep, services: ServicesDep,
             user: CurrentUser):
    """Delegates the member's voting power to `delegatee` (the member's own address takes it back). It counts for
    proposals whose voting opens after it is confirmed."""
    points = services.contracts.points
    custodial = user.wallet_kind == WalletKind.custodial
    if _pending(session, user) is not None:
        raise HTTPException(409, {"error": "delegation_pending",
                                  "message": "Your previous delegation is still on its way; try again in a moment. / "
                                             "前回の委任を処理中です。少し待ってからお試しください。"},
                            headers={"Retry-After": "10"})
    nonce = points.functions.nonces(user.wallet_address).call()
    if custodial:
        if body.signature is not None:
            raise HTTPException(400, {"error": "signature_not_expected",
                                      "message": "Your wallet is kept by Kyoso: send only the delegatee. / "
                                                 "署名は不要です。"})
        expiry = int(time.time()) + DELEGATION_VALID_S
        primary, types, message = ballots.delegation(body.delegatee, nonce, expiry)
        account = request.app.state.vault.open(SealedKey(user.custodial_key.address, user.custodial_key.sealed))
        signature = sign_typed(account.key, ballots.domain_of(points), primary, types, message)
    else:
        if body.signature is None or body.nonce is None or body.expiry is None:
            raise HTTPException(400, {"error": "signature_required",
                                      "message": "Sign the delegation from GET /api/me/delegation/typed-data and send "
                                                 "nonce, expiry and signature. / ウォレットで署名してください。"})
        if body.nonce != nonce or body.expiry <= time.time():
            raise HTTPException(400, {"error": "stale_delegation",
                                      "message": "The signed delegation is expired or already used: sign a new one. / "
                                                 "署名の有効期限が切れています。もう一度署名してください。"})
        expiry, signature = body.expiry, normalized_signature(bytes.fromhex(body.signature[2:]))
        primary, types, message = ballots.delegation(body.delegatee, nonce, expiry)
        try:
            signer = recover_typed(ballots.domain_of(points), primary, types, message, signature) if signature else None
        except Exception:  # noqa: BLE001 - malformed signature bytes
            signer = None
        if signer != user.wallet_address:
            raise HTTPException(400, {"error": "invalid_signature",
                                      "message": f"The signature is not {user.wallet_address}'s delegation to "
                                                 f"{body.delegatee} on this chain's points contract. / "
                                                 "署名が一致しません。"})
    # a delegation that failed without using its nonce (expired, refused) must not block the next one
    session.execute(delete(Delegation).where(Delegation.delegator == user.wallet_address, Delegation.nonce == nonce,
                                             Delegation.status == RelayStatus.failed))
    row = Delegation(user_id=user.id, delegator=user.wallet_address, delegatee=body.delegatee, nonce=nonce,
                     expiry=expiry, signature=signature)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, {"error": "delegation_pending",
                                  "message": "A delegation with this nonce is already on its way. / 委任を処理中です。"})
    return delegation_public(row)


@router.delete("", response_model=DelegationPublic, status_code=status.HTTP_202_ACCEPTED, responses=errors(400, 409))
def undelegate(request: Request, session: SessionDep, services: ServicesDep, user: CurrentUser):
    """Takes the custodial member's voting power back (delegates to themselves). Own-wallet members POST a signed
    delegation to their own address."""
    if user.wallet_kind != WalletKind.custodial:
        raise HTTPException(400, {"error": "signature_required",
                                  "message": "Sign a delegation to your own address in your wallet. / "
                                             "ご自身のアドレスへの委任にウォレットで署名してください。"})
    return delegate(DelegationCreate(delegatee=user.wallet_address), request, session, services, user)
