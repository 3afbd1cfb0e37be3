"""The member's own data: profile, wallet (badges and points as the indexer saw them on chain), privacy."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import delete, select

from backend.api.routes.claims import claim_public
from backend.platform.security import verify_password
from backend.api.deps import CurrentUser, SessionDep, SettingsDep
from backend.accounts.models import AccessToken
from backend.claims.models import BadgeHolding, Claim, ClaimStatus, PointsBalance
from backend.events.models import Event
from backend.organizations.models import Membership
from backend.platform.orm import utcnow
from backend.accounts.schemas import PasswordConfirm, UserPublic, WalletPublic
from backend.claims.schemas import BadgePublic

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=UserPublic)
def me(user: CurrentUser):
    return user


@router.get("/wallet", response_model=WalletPublic)
def wallet(session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """Badges and points at the member's address, from the indexer (what is on chain), never from the chain per
    request. A badge whose claim the relayer has just seen confirmed in a block is shown too, before the indexer
    reaches that block: the claim page says "confirmed" and links here, and the badge must be there."""
    holdings = session.execute(
        select(BadgeHolding, Event).outerjoin(Event, Event.token_id == BadgeHolding.token_id)
        .where(BadgeHolding.holder == user.wallet_address).order_by(BadgeHolding.block_number.desc())
    ).all()
    indexed = {h.token_id for h, _ in holdings}
    # The status is checked here, not in SQL: with `status = 'confirmed'` in the query SQLite chose the
    # (status, event_id) index and read every confirmed claim of every member (p99 ~200 ms at 100,000 badges,
    # bench/reads.py) instead of this member's few through the (user_id, event_id) one.
    just_confirmed = [
        (c, e) for c, e in session.execute(
            select(Claim, Event).join(Event, Event.id == Claim.event_id)
            .where(Claim.user_id == user.id, Claim.tx_id.is_not(None), Claim.recipient == user.wallet_address)
            .order_by(Claim.id.desc())
        ).all() if c.status == ClaimStatus.confirmed and e.token_id not in indexed
    ]
    balance = session.get(PointsBalance, user.wallet_address)
    base = settings.public_base_url

    def badge(token_id: int, event: Event | None, tx_hash: str, block: int) -> BadgePublic:
        return BadgePublic(token_id=token_id, event_id=event.id if event else None,
                           title_ja=event.title_ja if event else None, title_en=event.title_en if event else None,
                           image_url=f"{base}/metadata/{token_id:064x}.svg", tx_hash=tx_hash, block_number=block)

    return WalletPublic(
        address=user.wallet_address, kind=user.wallet_kind,
        points=balance.balance if balance else 0, voting_power=balance.votes if balance else 0,
        badges=[badge(e.token_id, e, c.tx.tx_hash, c.tx.block_number) for c, e in just_confirmed]
        + [badge(h.token_id, e, h.tx_hash, h.block_number) for h, e in holdings],
    )


@router.get("/data")
def my_data(session: SessionDep, settings: SettingsDep, user: CurrentUser) -> dict:
    """Everything stored about the member, as JSON (no secrets: keys and password hashes are never exported)."""
    claims = session.scalars(select(Claim).where(Claim.user_id == user.id)).all()
    memberships = session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    return {
        "profile": UserPublic.model_validate(user).model_dump(mode="json"),
        "claims": [claim_public(c, settings.explorer_tx_url).model_dump(mode="json") for c in claims],
        "organizations": [{"organization_id": m.organization_id, "role": m.role.value} for m in memberships],
    }


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_account(body: PasswordConfirm, session: SessionDep, user: CurrentUser):
    """Deletes the account's personal data. Badges on chain stay, at a pseudonymous address."""
    if user.password_hash is not None and not verify_password(user.password_hash, body.password):
        raise HTTPException(401, {"error": "invalid_credentials", "message": "Wrong password. / パスワードが違います。"})
    session.execute(delete(AccessToken).where(AccessToken.user_id == user.id))
    user.email = None
    user.password_hash = None
    user.display_name = None
    user.deleted_at = utcnow()
    user.custodial_key = None  # nobody can log in any more; the key is destroyed, the badges stay pseudonymous
    session.commit()
    return Response(status_code=204)
