"""The rules of accounts: sign-up and log-in with e-mail and password (each account gets a custodial wallet) or with
a wallet of one's own (SIWE), access tokens and their list, the address confirmed by a mailed link, a forgotten
password set anew by one, the member's own data (wallet, everything stored, deletion), and the roles only an operator
gives (steward, sponsor)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3 import Web3

from backend.accounts import mails, passwords
from backend.accounts.models import AccessToken, AccountLink, CustodialKey, LinkPurpose, TokenKind, User, WalletKind
from backend.accounts.schemas import (
    LoginCreate,
    MailSentPublic,
    SessionPublic,
    SignupCreate,
    TokenPublic,
    UserPublic,
    WalletPublic,
)
from backend.accounts.siwe import verify_siwe
from backend.claims.models import BadgeHolding, Claim, ClaimStatus, PointsBalance
from backend.claims.schemas import BadgePublic
from backend.claims.service import claim_public
from backend.events.models import Event
from backend.organizations.models import Membership
from backend.platform import rate_limits, throttle
from backend.platform.errors import Conflict, Gone, NotFound
from backend.platform.keys import KeyVault
from backend.platform.orm import utcnow
from backend.platform.security import TOKEN_BYTES, hash_password, new_secret, secret_hash


VERIFY_LINK_TTL = timedelta(days=7)  # a newcomer may read the mail days after the festival
RESET_LINK_TTL = timedelta(minutes=30)  # it hands over the account: short-lived


def issue_token(*, session: Session, user: User, ttl_s: int, kind: TokenKind = TokenKind.api,
                user_agent: str | None = None) -> TokenPublic:
    """A new access token for the member (a web session or an API token), valid for `ttl_s` seconds; only its hash is
    stored."""
    token = new_secret(TOKEN_BYTES)
    expires_at = utcnow() + timedelta(seconds=ttl_s)
    session.add(AccessToken(token_hash=secret_hash(token), user_id=user.id, expires_at=expires_at, kind=kind,
                            user_agent=(user_agent or None) and user_agent[:200]))
    session.commit()
    return TokenPublic(access_token=token, expires_at=expires_at)


def revoke_token(*, session: Session, token: str) -> None:
    """Log-out: the access token stops working at once (it would otherwise stay valid until it expires)."""
    row = session.get(AccessToken, secret_hash(token))
    if row is not None:
        session.delete(row)
        session.commit()


def _new_link(session: Session, user: User, purpose: LinkPurpose, ttl: timedelta) -> str:
    token = new_secret(TOKEN_BYTES)
    session.add(AccountLink(token_hash=secret_hash(token), user_id=user.id, purpose=purpose, email=user.email,
                            expires_at=utcnow() + ttl))
    return token


def _use_link(session: Session, token: str, purpose: LinkPurpose, refusal: str) -> tuple[AccountLink, User]:
    """Spends a mailed link (one conditional UPDATE: of two requests with it, one wins) and returns it with its
    account; 410 `refusal` for a link that is unknown, of the other purpose, used, expired, or sent to an address the
    account no longer has."""
    now = utcnow()
    link = session.get(AccountLink, secret_hash(token))
    if link is None or link.purpose != purpose:
        raise Gone(refusal)
    spent = session.execute(
        update(AccountLink).where(AccountLink.token_hash == link.token_hash, AccountLink.used_at.is_(None),
                                  AccountLink.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    user = session.get(User, link.user_id)
    if spent != 1 or user is None or user.deleted_at is not None or user.email != link.email:
        session.rollback()
        raise Gone(refusal)
    return link, user


def signup(*, session: Session, vault: KeyVault, body: SignupCreate, client_ip: str | None,
           base_url: str) -> MailSentPublic:
    """Creates an account with a custodial wallet (no seed phrase, no gas) and mails its address a verification link.
    An address that has an account already gets a note instead (no new account, the ways back into the old one).

    Both answer alike and take as long: each hashes the password with argon2 and makes a key, and each stores one
    mail. The person signing up then logs in with the password they chose (the web form does it at once): an account
    is usable before its address is confirmed, except for the roles that spend or issue."""
    email = body.email.lower()
    throttle.take(session, rate_limits.signups(mailbox_hash=passwords.mailbox_key(email),
                                               address=client_ip or "unknown"))
    password_hash = hash_password(body.password)
    sealed = vault.create()
    owner = session.scalar(select(User).where(User.email == email))
    if owner is None:
        user = User(email=email, password_hash=password_hash, display_name=body.display_name, locale=body.locale,
                    wallet_address=sealed.address, wallet_kind=WalletKind.custodial)
        user.custodial_key = CustodialKey(address=sealed.address, sealed=sealed.ciphertext)
        try:
            with session.begin_nested():  # added inside: a savepoint rolled back takes the new rows with it
                session.add(user)
                session.flush()
        except IntegrityError:  # the same address signed up twice at once: the other one made the account
            owner = session.scalar(select(User).where(User.email == email))
        else:
            link = _new_link(session, user, LinkPurpose.verify_email, VERIFY_LINK_TTL)
            mails.verification(session, vault, to=email, lang=user.locale, name=user.display_name,
                               link=mails.verify_link(base_url, link), days=VERIFY_LINK_TTL.days)
    if owner is not None:
        mails.already_registered(session, vault, to=email, lang=owner.locale, base_url=base_url)
    session.commit()
    return MailSentPublic(email=email)


def login(*, session: Session, body: LoginCreate, token_ttl_s: int, client_ip: str | None = None,
          kind: TokenKind = TokenKind.api, user_agent: str | None = None) -> TokenPublic:
    """A new token for the right password; 401 for a wrong one or an unknown address (as slow), 429 once the address
    typed or the client's address has had ten (a hundred) wrong ones (backend/accounts/passwords.py)."""
    email = body.email.lower()
    user = session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
    passwords.check(session, user, body.password, passwords.login_limits(email, client_ip))
    return issue_token(session=session, user=user, ttl_s=token_ttl_s, kind=kind, user_agent=user_agent)


# -------------------------------------------------------------------------------------------- the address, the password


def send_verification(*, session: Session, vault: KeyVault, user: User, base_url: str) -> MailSentPublic:
    """A new verification link to the member's address (one that lost or let the first one expire); nothing for an
    address already confirmed."""
    if user.email is None:
        raise Conflict("account_without_email")
    if not user.email_verified:
        throttle.take(session, rate_limits.verification_mails(user_id=user.id))
        link = _new_link(session, user, LinkPurpose.verify_email, VERIFY_LINK_TTL)
        mails.verification(session, vault, to=user.email, lang=user.locale, name=user.display_name,
                           link=mails.verify_link(base_url, link), days=VERIFY_LINK_TTL.days)
        session.commit()
    return MailSentPublic(email=user.email)


def verify_email(*, session: Session, token: str) -> User:
    """The owner of the address opened the mailed link: the address is confirmed (a link works once, for 7 days)."""
    _, user = _use_link(session, token, LinkPurpose.verify_email, "verification_link_invalid")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    session.commit()
    return user


def request_password_reset(*, session: Session, vault: KeyVault, email: str, client_ip: str | None, base_url: str,
                           lang: str) -> MailSentPublic:
    """Mails a single-use link to set a new password, valid RESET_LINK_TTL, to the address's account; an address
    without one gets a note saying so (in the language of the request) instead. Both answer alike and take as long:
    one mail stored either way."""
    email = email.strip().lower()
    throttle.take(session, rate_limits.resets(mailbox_hash=passwords.mailbox_key(email),
                                              address=client_ip or "unknown"))
    user = session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
    if user is not None:
        link = _new_link(session, user, LinkPurpose.reset_password, RESET_LINK_TTL)
        mails.password_reset(session, vault, to=email, lang=user.locale, link=mails.reset_link(base_url, link),
                             minutes=int(RESET_LINK_TTL.total_seconds() // 60))
    else:
        mails.no_account(session, vault, to=email, lang=lang, base_url=base_url)
    session.commit()
    return MailSentPublic(email=email)


def _new_password(session: Session, vault: KeyVault, user: User, password: str, base_url: str,
                  keep_token: str | None) -> None:
    """Sets the password and ends every log-in but `keep_token`'s, spends every reset link still open, and tells the
    address (someone who took the password over must not go unnoticed); the caller commits."""
    now = utcnow()
    user.password_hash = hash_password(password)
    ended = delete(AccessToken).where(AccessToken.user_id == user.id)
    if keep_token is not None:
        ended = ended.where(AccessToken.token_hash != secret_hash(keep_token))
    session.execute(ended.execution_options(synchronize_session=False))
    session.execute(update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None),
                                              AccountLink.purpose == LinkPurpose.reset_password)
                    .values(used_at=now).execution_options(synchronize_session=False))
    mails.password_changed(session, vault, to=user.email, lang=user.locale, base_url=base_url, when=now)


def reset_password(*, session: Session, vault: KeyVault, token: str, password: str, base_url: str) -> User:
    """Sets a new password with a mailed reset link (once, within 30 minutes) and ends every log-in of the account.
    The link reached the address, so the address counts as confirmed too."""
    _, user = _use_link(session, token, LinkPurpose.reset_password, "reset_link_invalid")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    _new_password(session, vault, user, password, base_url, keep_token=None)
    session.commit()
    return user


def change_password(*, session: Session, vault: KeyVault, user: User, current_password: str, new_password: str,
                    current_token: str | None, client_ip: str | None, base_url: str) -> None:
    """A logged-in member changes the password, confirming the current one (throttled): every other log-in ends,
    this one stays."""
    passwords.check_again(session=session, user=user, password=current_password, client_ip=client_ip)
    _new_password(session, vault, user, new_password, base_url, keep_token=current_token)
    session.commit()


# ---------------------------------------------------------------------------------------------- log-ins


def sessions_of(*, session: Session, user: User, current_token: str | None) -> list[SessionPublic]:
    """The member's log-ins that still work, newest first; `current` marks the one asking."""
    current = secret_hash(current_token) if current_token else None
    rows = session.scalars(select(AccessToken).where(AccessToken.user_id == user.id,
                                                     AccessToken.expires_at >= utcnow())
                           .order_by(AccessToken.created_at.desc())).all()
    return [SessionPublic(id=r.public_id, kind=r.kind, user_agent=r.user_agent, created_at=r.created_at,
                          expires_at=r.expires_at, current=r.token_hash == current) for r in rows]


def revoke_session(*, session: Session, user: User, session_id: str) -> None:
    """Ends one of the member's log-ins (another device, an old API token)."""
    ended = session.execute(delete(AccessToken).where(AccessToken.user_id == user.id,
                                                      AccessToken.public_id == session_id)
                            .execution_options(synchronize_session=False)).rowcount
    if ended != 1:
        raise NotFound("session_not_found")
    session.commit()


def log_out_everywhere(*, session: Session, user: User) -> int:
    """Ends every log-in of the member, this one included; how many there were."""
    ended = session.execute(delete(AccessToken).where(AccessToken.user_id == user.id)
                            .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return ended


def siwe_login(*, session: Session, base_url: str, chain_id: int, message: str, signature: str,
               token_ttl_s: int, w3: Web3 | None = None) -> TokenPublic:
    """Logs in (creating the account on first use) the owner of a wallet, proven by a SIWE message signed to log in
    (a contract wallet's signature is checked through the node `w3`, EIP-1271)."""
    address = verify_siwe(session=session, base_url=base_url, chain_id=chain_id, message=message,
                          signature=signature, purpose="login", w3=w3)
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


def delete_account(*, session: Session, user: User, password: str, client_ip: str | None = None) -> None:
    """Deletes the account's personal data, after the password is confirmed again (throttled). Badges on chain stay,
    at a pseudonymous address."""
    if user.password_hash is not None:
        passwords.check_again(session=session, user=user, password=password, client_ip=client_ip)
    session.execute(delete(AccessToken).where(AccessToken.user_id == user.id))
    session.execute(delete(AccountLink).where(AccountLink.user_id == user.id))
    user.email = None
    user.email_verified_at = None
    user.password_hash = None
    user.display_name = None
    user.deleted_at = utcnow()
    user.custodial_key = None  # nobody can log in any more; the key is destroyed, the badges stay pseudonymous
    session.commit()


# ---------------------------------------------------------------------------------------------- the operator's acts
# Never reachable through the API (`kyoso ...`, backend/admin.py): whoever could give themselves a role over HTTP could
# approve their own organization, or spend the sponsor's gas.


def account_by_email(*, session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.deleted_at.is_(None)))
    if user is None:
        raise NotFound("account_not_found")
    return user


def set_steward(*, session: Session, email: str, steward: bool) -> User:
    """Makes the member with `email` a steward of the community (approves and suspends organizations), or no longer
    one. The role has power only while the address is verified."""
    user = account_by_email(session=session, email=email)
    user.is_steward = steward
    session.commit()
    return user


def set_sponsor(*, session: Session, email: str, sponsor: bool) -> User:
    """Makes the member with `email` one of the sponsor's accounts (sets gas budgets, sees the spend report), or no
    longer one. The role has power only while the address is verified."""
    user = account_by_email(session=session, email=email)
    user.is_sponsor = sponsor
    session.commit()
    return user


def sponsors(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_sponsor.is_(True), User.deleted_at.is_(None))
                                .order_by(User.id)))


def mark_verified(*, session: Session, email: str) -> User:
    """The operator vouches for the address (checked another way: in person, by phone), as its mailed link would."""
    user = account_by_email(session=session, email=email)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    session.commit()
    return user
