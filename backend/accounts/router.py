"""Accounts over HTTP: sign-up and log-in (e-mail and password, or Sign-In with Ethereum), the member's own data,
and the move to a wallet of their own. The rules are in service.py, siwe.py and wallet_export.py."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status

from backend.accounts import service, siwe, wallet_export
from backend.accounts.deps import CurrentUser
from backend.accounts.schemas import (
    LoginCreate,
    PasswordConfirm,
    SignupCreate,
    SiweLoginCreate,
    TokenPublic,
    UserPublic,
    WalletExportCreate,
    WalletPublic,
)
from backend.platform.http import ServicesDep, SessionDep, SettingsDep, errors

router = APIRouter()
AUTH, ME = ["auth"], ["me"]


# ---------------------------------------------------------------------------------------------------- log-in


@router.post("/auth/signup", response_model=TokenPublic, status_code=status.HTTP_201_CREATED, responses=errors(409),
             tags=AUTH)
def signup(body: SignupCreate, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    """Creates an account with a custodial wallet (no seed phrase, no gas) and logs it in."""
    return service.signup(session=session, vault=request.app.state.vault, body=body,
                          token_ttl_s=settings.access_token_ttl_s)


@router.post("/auth/login", response_model=TokenPublic, responses=errors(401), tags=AUTH)
def login(body: LoginCreate, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    return service.login(session=session, body=body, token_ttl_s=settings.access_token_ttl_s)


@router.get("/auth/siwe/nonce", tags=AUTH)
def siwe_nonce(session: SessionDep) -> dict:
    """A single-use nonce for a Sign-In with Ethereum (EIP-4361) message, valid for 10 minutes."""
    return siwe.new_nonce(session=session)


@router.get("/auth/siwe/message", tags=AUTH)
def siwe_message(request: Request, session: SessionDep, settings: SettingsDep,
                 address: str = Query(pattern=r"^0x[0-9a-fA-F]{40}$")) -> dict:
    """A ready Sign-In with Ethereum message for `address` (checksummed, fresh nonce, this site and chain), for a
    wallet to sign with personal_sign: browsers need no Keccak of their own to build it."""
    return {"message": siwe.prepare_message(session=session, address=address, base_url=settings.public_base_url,
                                            chain_id=request.app.state.chain_id)}


@router.post("/auth/siwe/login", response_model=TokenPublic, responses=errors(400), tags=AUTH)
def siwe_login(body: SiweLoginCreate, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    """Logs in (creating the account on first use) the owner of a wallet, proven by a signed SIWE message."""
    return service.siwe_login(session=session, base_url=settings.public_base_url, chain_id=request.app.state.chain_id,
                              message=body.message, signature=body.signature,
                              token_ttl_s=settings.access_token_ttl_s)


# ---------------------------------------------------------------------------------------------------- own data


@router.get("/me", response_model=UserPublic, tags=ME)
def me(user: CurrentUser):
    return user


@router.get("/me/wallet", response_model=WalletPublic, tags=ME)
def wallet(session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """Badges and points at the member's address, from the indexer (what is on chain), never from the chain per
    request; a badge whose claim was just confirmed shows before the indexer reaches its block."""
    return service.wallet_view(session=session, user=user, base_url=settings.public_base_url)


@router.get("/me/data", tags=ME)
def my_data(session: SessionDep, settings: SettingsDep, user: CurrentUser) -> dict:
    """Everything stored about the member, as JSON (no secrets: keys and password hashes are never exported)."""
    return service.my_data(session=session, user=user, explorer_tx_url=settings.explorer_tx_url)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=ME)
def delete_account(body: PasswordConfirm, session: SessionDep, user: CurrentUser):
    """Deletes the account's personal data. Badges on chain stay, at a pseudonymous address."""
    service.delete_account(session=session, user=user, password=body.password)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------- own wallet


@router.post("/me/wallet/export", status_code=status.HTTP_202_ACCEPTED, responses=errors(400, 409), tags=ME)
def export_wallet(body: WalletExportCreate, request: Request, session: SessionDep, settings: SettingsDep,
                  services: ServicesDep, user: CurrentUser) -> dict:
    """Moves everything from the custodial wallet to the member's own address (proven by a SIWE message signed
    there), after the password is confirmed again."""
    return wallet_export.export_wallet(
        session=session, vault=request.app.state.vault, badges=services.contracts.badges, user=user,
        password=body.password, message=body.message, signature=body.signature, base_url=settings.public_base_url,
        chain_id=request.app.state.chain_id)


@router.get("/me/wallet/export", responses=errors(404), tags=ME)
def export_status(session: SessionDep, user: CurrentUser) -> dict:
    return wallet_export.export_status(session=session, user=user)
