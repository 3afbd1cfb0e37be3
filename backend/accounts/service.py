"""The rules of accounts: sign-up and log-in with e-mail and password (each account gets a custodial wallet) or with
a wallet of one's own (SIWE), access tokens, and the member's own data: wallet, everything stored, deletion."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import AccessToken, CustodialKey, User, WalletKind
from backend.accounts.schemas import LoginCreate, SignupCreate, TokenPublic, UserPublic, WalletPublic
from backend.accounts.siwe import verify_siwe
from backend.claims.models import BadgeHolding, Claim, ClaimStatus, PointsBalance
from backend.claims.schemas import BadgePublic
from backend.claims.service import claim_public
from backend.events.models import Event
from backend.organizations.models import Membership
from backend.platform.errors import Conflict, NotFound, Unauthorized
from backend.platform.keys import KeyVault
from backend.platform.orm import utcnow
from backend.platform.security import TOKEN_BYTES, hash_password, new_secret, secret_hash, verify_password


def issue_token(*, session: Session, user: User, ttl_s: int) -> TokenPublic:
    """A new access token for the member, valid for `ttl_s` seconds; only its hash is stored."""
    token = new_secret(TOKEN_BYTES)
    expires_at = utcnow() + timedelta(seconds=ttl_s)
    session.add(AccessToken(token_hash=secret_hash(token), user_id=user.id, expires_at=expires_at))
    session.commit()
    return TokenPublic(access_token=token, expires_at=expires_at)


def revoke_token(*, session: Session, token: str) -> None:
    """Log-out: the access token stops working at once (it would otherwise stay valid until it expires)."""
    row = session.get(AccessToken, secret_hash(token))
    if row is not None:
        session.delete(row)
        session.commit()


def signup(*, session: Session, vault: KeyVault, body: SignupCreate, token_ttl_s: int) -> TokenPublic:
    """Creates an account with a custodial wallet (no seed phrase, no gas) and logs it in."""
    email = body.email.lower()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict("email_taken")
    sealed = vault.create()
    user = User(email=email, password_hash=hash_password(body.password), display_name=body.display_name,
                locale=body.locale, wallet_address=sealed.address, wallet_kind=WalletKind.custodial)
    user.custodial_key = CustodialKey(address=sealed.address, sealed=sealed.ciphertext)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same address signed up twice at once
        session.rollback()
        raise Conflict("email_taken") from None
    return issue_token(session=session, user=user, ttl_s=token_ttl_s)


def login(*, session: Session, body: LoginCreate, token_ttl_s: int) -> TokenPublic:
    user = session.scalar(select(User).where(User.email == body.email.lower(), User.deleted_at.is_(None)))
    if user is None or user.password_hash is None or not verify_password(user.password_hash, body.password):
        raise Unauthorized("invalid_credentials")
    return issue_token(session=session, user=user, ttl_s=token_ttl_s)


def siwe_login(*, session: Session, base_url: str, chain_id: int, message: str, signature: str,
               token_ttl_s: int) -> TokenPublic:
    """Logs in (creating the account on first use) the owner of a wallet, proven by a signed SIWE message."""
    address = verify_siwe(session=session, base_url=base_url, chain_id=chain_id, message=message,
                          signature=signature)
    user = session.scalar(select(User).where(User.wallet_address == address))
    if user is None:
        user = User(wallet_address=address, wallet_kind=WalletKind.own, locale="ja")
        session.add(user)
        session.flush()
    return issue_token(session=session, user=user, ttl_s=token_ttl_s)


def wallet_view(*, session: Session, user: User, base_url: str) -> WalletPublic:
    """Badges and points at the member's address, from the indexer (what is on chain), never from the chain per
    request. A badge whose claim the relayer has just seen confirmed in a block is shown too, before the indexer
    reaches that block: the claim page says "confirmed" and links here, and the badge must be there."""
    holdings = session.execute(
        select(BadgeHolding, Event).outerjoin(Event, Event.token_id == BadgeHolding.token_id)
        .where(BadgeHolding.holder == user.wallet_address).order_by(BadgeHolding.block_number.desc())
    ).all()
    indexed = {h.token_id for h, _ in holdings}
    # The status is checked here, not in SQL: with `status = 'confirmed'` in the query SQLite chose the
    # (status, event_id) index and read every confirmed claim of every member (bench/reads.py) instead of this
    # member's few through the (user_id, event_id) one.
    just_confirmed = [
        (c, e) for c, e in session.execute(
            select(Claim, Event).join(Event, Event.id == Claim.event_id)
            .where(Claim.user_id == user.id, Claim.tx_id.is_not(None), Claim.recipient == user.wallet_address)
            .order_by(Claim.id.desc())
        ).all() if c.status == ClaimStatus.confirmed and e.token_id not in indexed
    ]
    balance = session.get(PointsBalance, user.wallet_address)

    def badge(token_id: int, event: Event | None, tx_hash: str, block: int) -> BadgePublic:
        return BadgePublic(token_id=token_id, event_id=event.id if event else None,
                           title_ja=event.title_ja if event else None, title_en=event.title_en if event else None,
                           image_url=f"{base_url}/metadata/{token_id:064x}.svg", tx_hash=tx_hash, block_number=block)

    return WalletPublic(
        address=user.wallet_address, kind=user.wallet_kind,
        points=balance.balance if balance else 0, voting_power=balance.votes if balance else 0,
        badges=[badge(e.token_id, e, c.tx.tx_hash, c.tx.block_number) for c, e in just_confirmed]
        + [badge(h.token_id, e, h.tx_hash, h.block_number) for h, e in holdings],
    )


def my_data(*, session: Session, user: User, explorer_tx_url: str) -> dict:
    """Everything stored about the member, as JSON (no secrets: keys and password hashes are never exported)."""
    claims = session.scalars(select(Claim).where(Claim.user_id == user.id)).all()
    memberships = session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    return {
        "profile": UserPublic.model_validate(user).model_dump(mode="json"),
        "claims": [claim_public(c, explorer_tx_url).model_dump(mode="json") for c in claims],
        "organizations": [{"organization_id": m.organization_id, "role": m.role.value} for m in memberships],
    }


def delete_account(*, session: Session, user: User, password: str) -> None:
    """Deletes the account's personal data, after the password is confirmed again. Badges on chain stay, at a
    pseudonymous address."""
    if user.password_hash is not None and not verify_password(user.password_hash, password):
        raise Unauthorized("invalid_credentials")
    session.execute(delete(AccessToken).where(AccessToken.user_id == user.id))
    user.email = None
    user.password_hash = None
    user.display_name = None
    user.deleted_at = utcnow()
    user.custodial_key = None  # nobody can log in any more; the key is destroyed, the badges stay pseudonymous
    session.commit()


def set_steward(*, session: Session, email: str, steward: bool) -> User:
    """Makes the member with `email` a steward of the community, or no longer one. An operator's act (`python -m
    backend.admin steward ...`), never reachable through the API: stewards decide which organizations may issue."""
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.deleted_at.is_(None)))
    if user is None:
        raise NotFound("account_not_found")
    user.is_steward = steward
    session.commit()
    return user
