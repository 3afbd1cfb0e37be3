"""Delegation: a member gives their voting power to someone they trust, and takes it back, without gas
(`delegateBySig`, relayed). Custodial members' delegations are signed with their key; own-wallet members sign the
EIP-712 Delegation from GET /me/delegation/typed-data in their wallet."""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import User, WalletKind
from backend.claims.models import PointsBalance
from backend.governance import ballots, budget
from backend.governance.models import Delegation, RelayStatus
from backend.governance.public import delegation_public
from backend.governance.schemas import DelegationCreate, DelegationPublic, DelegationStatePublic
from backend.platform.chain.eip712 import for_wallet, normalized_signature, recover_typed, sign_typed, typed_data
from backend.platform.errors import Conflict, Invalid
from backend.platform.keys import SealedKey

DELEGATION_VALID_S = 3600  # a signed delegation is valid for an hour; the relayer sends it within seconds
# The relayer sends a delegation within seconds: the next one may come then.
PENDING_RETRY_AFTER_S = 10


def pending_delegation(*, session: Session, user: User) -> Delegation | None:
    """The member's delegation the relayer has not confirmed yet."""
    return session.scalar(select(Delegation).where(
        Delegation.delegator == user.wallet_address,
        Delegation.status.in_((RelayStatus.accepted, RelayStatus.submitted))))


def delegation_state(*, session: Session, points, user: User) -> DelegationStatePublic:
    """Whom the member's points vote for, and the member's points and voting power (from the indexer)."""
    balance = session.get(PointsBalance, user.wallet_address)
    pending = pending_delegation(session=session, user=user)
    return DelegationStatePublic(
        address=user.wallet_address, delegate=points.functions.delegates(user.wallet_address).call(),
        points=balance.balance if balance else 0, voting_power=balance.votes if balance else 0,
        pending=delegation_public(pending) if pending else None)


def delegation_to_sign(*, points, user: User, delegatee: str, now: float | None = None) -> dict:
    """The EIP-712 Delegation for the member's wallet to sign, valid for DELEGATION_VALID_S."""
    now = time.time() if now is None else now
    primary, types, message = ballots.delegation(points.w3.to_checksum_address(delegatee),
                                                 points.functions.nonces(user.wallet_address).call(),
                                                 int(now) + DELEGATION_VALID_S)
    return for_wallet(typed_data(ballots.domain_of(points), primary, types, message))


# ---------------------------------------------------------------------------------------------------- rules


def check_none_pending(*, session: Session, user: User) -> None:
    """One delegation at a time: the next one would use the same nonce."""
    if pending_delegation(session=session, user=user) is not None:
        raise Conflict("delegation_pending", retry_after=PENDING_RETRY_AFTER_S)


def check_signed_delegation(*, body: DelegationCreate, nonce: int, now: float) -> None:
    """An own-wallet member's signed delegation is complete, for the ledger's current `nonce`, and not expired."""
    if body.signature is None or body.nonce is None or body.expiry is None:
        raise Invalid("signature_required")
    if body.nonce != nonce or body.expiry <= now:
        raise Invalid("stale_delegation")


# ---------------------------------------------------------------------------------------------------- delegating


def delegate(*, session: Session, points, vault, user: User, body: DelegationCreate,
             now: float | None = None) -> DelegationPublic:
    """Delegates the member's voting power to `body.delegatee` (the member's own address takes it back). It counts
    for proposals whose voting opens after it is confirmed."""
    now = time.time() if now is None else now
    custodial = user.wallet_kind == WalletKind.custodial
    check_none_pending(session=session, user=user)
    budget.refuse_delegation_if_spent(session=session)  # backend/governance/budget.py: why delegations, not votes
    nonce = points.functions.nonces(user.wallet_address).call()
    if custodial:
        if body.signature is not None:
            raise Invalid("signature_not_expected")
        expiry = int(now) + DELEGATION_VALID_S
        primary, types, message = ballots.delegation(body.delegatee, nonce, expiry)
        account = vault.open(SealedKey(user.custodial_key.address, user.custodial_key.sealed))
        signature = sign_typed(account.key, ballots.domain_of(points), primary, types, message)
    else:
        check_signed_delegation(body=body, nonce=nonce, now=now)
        expiry, signature = body.expiry, normalized_signature(bytes.fromhex(body.signature[2:]))
        primary, types, message = ballots.delegation(body.delegatee, nonce, expiry)
        try:
            signer = recover_typed(ballots.domain_of(points), primary, types, message, signature) if signature else None
        except Exception:  # noqa: BLE001 - malformed signature bytes
            signer = None
        if signer != user.wallet_address:  # not the member's delegation to delegatee on this chain's points contract
            raise Invalid("invalid_signature", delegator=user.wallet_address, delegatee=body.delegatee)
    # a delegation that failed without using its nonce (expired, refused) must not block the next one
    session.execute(delete(Delegation).where(Delegation.delegator == user.wallet_address, Delegation.nonce == nonce,
                                             Delegation.status == RelayStatus.failed))
    row = Delegation(user_id=user.id, delegator=user.wallet_address, delegatee=body.delegatee, nonce=nonce,
                     expiry=expiry, signature=signature)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # a delegation with this nonce is already on its way
        session.rollback()
        raise Conflict("delegation_pending") from None
    return delegation_public(row)


def undelegate(*, session: Session, points, vault, user: User) -> DelegationPublic:
    """Takes a custodial member's voting power back (delegates to themselves). An own-wallet member signs a
    delegation to their own address instead."""
    if user.wallet_kind != WalletKind.custodial:
        raise Invalid("signature_required")
    return delegate(session=session, points=points, vault=vault, user=user,
                    body=DelegationCreate(delegatee=user.wallet_address))
