"""The member's own data: profile, wallet (badges and points as the indexer saw them on chain), privacy."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import delete, select

from backend.api.routes.claims import claim_public
from backend.core.security import verify_password
from backend.deps import CurrentUser, SessionDep, SettingsDep
from backend.models import AccessToken, BadgeHolding, Claim, Event, Membership, PointsBalance, utcnow
from backend.schemas import BadgePublic, PasswordConfirm, UserPublic, WalletPublic

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=UserPublic)
def me(user: CurrentUser):
    return user


@router.get("/wallet", response_model=WalletPublic)
def wallet(session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """Badges and points at the member's address, from the indexer (what is on chain), never from the chain per
    request."""
    holdings = session.execute(
        select(BadgeHolding, Event).outerjoin(Event, Event.token_id == BadgeHolding.token_id)
        .where(BadgeHolding.holder == user.wallet_address).order_by(BadgeHolding.block_number.desc())
    ).all()
    balance = session.get(PointsBalance, user.wallet_address)
    base = settings.public_base_url
    return WalletPublic(
        address=user.wallet_address, kind=user.wallet_kind,
        points=balance.balance if balance else 0, voting_power=balance.votes if balance else 0,
        badges=[BadgePublic(token_id=h.token_id, event_id=e.id if e else None, title_ja=e.title_ja if e else None,
                            title_en=e.title_en if e else None, image_url=f"{base}/metadata/{h.token_id:064x}.svg",
                            tx_hash=h.tx_hash, block_number=h.block_number) for h, e in holdings],
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
