"""Accounts: sign-up and log-in with e-mail and password (each account gets a custodial wallet), or Sign-In with
Ethereum for members who have a wallet of their own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from siwe import SiweMessage
from web3 import Web3

from backend.api.errors import errors
from backend.platform.config import Settings
from backend.platform.security import TOKEN_BYTES, hash_password, new_secret, secret_hash, verify_password
from backend.api.deps import SessionDep, SettingsDep
from backend.accounts.models import AccessToken, CustodialKey, SiweNonce, User, WalletKind
from backend.platform.orm import utcnow
from backend.accounts.schemas import LoginCreate, SignupCreate, SiweLoginCreate, TokenPublic

router = APIRouter(prefix="/auth", tags=["auth"])

SIWE_NONCE_TTL = timedelta(minutes=10)


def issue_token(session: Session, settings: Settings, user: User) -> TokenPublic:
    token = new_secret(TOKEN_BYTES)
    expires_at = utcnow() + timedelta(seconds=settings.access_token_ttl_s)
    session.add(AccessToken(token_hash=secret_hash(token), user_id=user.id, expires_at=expires_at))
    session.commit()
    return TokenPublic(access_token=token, expires_at=expires_at)


@router.post("/signup", response_model=TokenPublic, status_code=status.HTTP_201_CREATED, responses=errors(409))
def signup(body: SignupCreate, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    """Creates an account with a custodial wallet (no seed phrase, no gas) and logs it in."""
    email = body.email.lower()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise HTTPException(409, {"error": "email_taken",
                                  "message": "This e-mail address already has an account: log in instead. / "
                                             "このメールアドレスは登録済みです。ログインしてください。"})
    sealed = request.app.state.vault.create()
    user = User(email=email, password_hash=hash_password(body.password), display_name=body.display_name,
                locale=body.locale, wallet_address=sealed.address, wallet_kind=WalletKind.custodial)
    user.custodial_key = CustodialKey(address=sealed.address, sealed=sealed.ciphertext)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, {"error": "email_taken", "message": "This e-mail address already has an account."})
    return issue_token(session, settings, user)


@router.post("/login", response_model=TokenPublic, responses=errors(401))
def login(body: LoginCreate, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    user = session.scalar(select(User).where(User.email == body.email.lower(), User.deleted_at.is_(None)))
    if user is None or user.password_hash is None or not verify_password(user.password_hash, body.password):
        raise HTTPException(401, {"error": "invalid_credentials",
                                  "message": "Wrong e-mail or password. / メールアドレスかパスワードが違います。"})
    return issue_token(session, settings, user)


@router.get("/siwe/nonce")
def siwe_nonce(session: SessionDep) -> dict:
    """A single-use nonce for a Sign-In with Ethereum (EIP-4361) message, valid for 10 minutes."""
    nonce = new_secret(12).replace("-", "a").replace("_", "b")  # SIWE nonces are alphanumeric
    session.add(SiweNonce(nonce=nonce, expires_at=utcnow() + SIWE_NONCE_TTL))
    session.commit()
    return {"nonce": nonce, "expires_in_s": int(SIWE_NONCE_TTL.total_seconds())}


@router.get("/siwe/message")
def siwe_message(request: Request, session: SessionDep, settings: SettingsDep,
                 address: str = Query(pattern=r"^0x[0-9a-fA-F]{40}$")) -> dict:
    """A ready Sign-In with Ethereum message for `address` (checksummed, fresh nonce, this site and chain), for a
    wallet to sign with personal_sign: browsers need no Keccak of their own to build it."""
    nonce = siwe_nonce(session)["nonce"]
    domain = settings.public_base_url.split("//", 1)[-1].split("/", 1)[0]
    message = SiweMessage(
        domain=domain, address=Web3.to_checksum_address(address), uri=settings.public_base_url, version="1",
        chain_id=request.app.state.chain_id, nonce=nonce,
        issued_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        statement="Kyoso: link this wallet to my account",
    )
    return {"message": message.prepare_message()}


def verify_siwe(session: Session, settings: Settings, chain_id: int, message: str, signature: str) -> str:
    """Checks a signed SIWE message (domain, chain, expiry, single-use nonce, signature); returns its address."""
    invalid = lambda why: HTTPException(400, {"error": "invalid_siwe", "message": f"Sign-In with Ethereum: {why}"})  # noqa: E731
    try:
        parsed = SiweMessage.from_message(message=message)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's malformed message
        raise invalid(f"malformed message ({type(exc).__name__})") from None
    stored = session.get(SiweNonce, parsed.nonce)
    if stored is None or stored.used_at is not None or stored.expires_at < utcnow():
        raise invalid("unknown, used or expired nonce; ask for a new one")
    domain = settings.public_base_url.split("//", 1)[-1].split("/", 1)[0]
    try:
        parsed.verify(signature, domain=domain, nonce=parsed.nonce, timestamp=datetime.now(timezone.utc))
    except Exception as exc:  # noqa: BLE001 - siwe raises one exception type per failed check
        raise invalid(type(exc).__name__) from None
    if int(parsed.chain_id) != chain_id:
        raise invalid(f"the message is for chain {parsed.chain_id}, this community is on chain {chain_id}")
    spent = session.execute(update(SiweNonce).where(SiweNonce.nonce == parsed.nonce, SiweNonce.used_at.is_(None))
                            .values(used_at=utcnow()))
    if spent.rowcount != 1:  # the same message sent twice at once: only one may use the nonce
        raise invalid("unknown, used or expired nonce; ask for a new one")
    return parsed.address


@router.post("/siwe/login", response_model=TokenPublic, responses=errors(400))
def siwe_login(body: SiweLoginCreate, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    """Logs in (creating the account on first use) the owner of a wallet, proven by a signed SIWE message."""
    address = verify_siwe(session, settings, request.app.state.chain_id, body.message, body.signature)
    user = session.scalar(select(User).where(User.wallet_address == address))
    if user is None:
        user = User(wallet_address=address, wallet_kind=WalletKind.own, locale="ja")
        session.add(user)
        session.flush()
    return issue_token(session, settings, user)
