"""Accounts over HTTP: sign-up and log-in (e-mail and password, or Sign-In with Ethereum), the address confirmed and a
password reset by mailed links, the member's own data, log-ins and password, and the move to a wallet of their own.
The rules are in service.py, passwords.py, siwe.py and wallet_export.py."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request, Response, status

from backend.accounts import service, siwe, wallet_export
from backend.accounts.deps import CurrentToken, CurrentUser
from backend.accounts.models import TokenKind
from backend.accounts.schemas import (
    EmailVerificationConfirm,
    EmailVerifiedPublic,
    LoginCreate,
    MailSentPublic,
    PasswordChange,
    PasswordConfirm,
    PasswordResetConfirm,
    PasswordResetCreate,
    SessionPublic,
    SignupCreate,
    SiweLoginCreate,
    TokenPublic,
    UserPublic,
    WalletExportCreate,
    WalletPublic,
)
from backend.i18n import language_of
from backend.platform.http import ServicesDep, SessionDep, SettingsDep, Web3Dep, client_ip, errors

router = APIRouter()
AUTH, ME = ["auth"], ["me"]


# ---------------------------------------------------------------------------------------------------- log-in


@router.post("/auth/signup", response_model=MailSentPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(429), tags=AUTH)
def signup(body: SignupCreate, request: Request, session: SessionDep, settings: SettingsDep) -> MailSentPublic:
    """Creates an account with a custodial wallet (no seed phrase, no gas) and mails a link that confirms its
    address; then log in (`POST /auth/login`) with the password chosen here. An address that has an account already
    gets a note instead, and the answer is the same: nobody learns here which addresses have accounts. Limited per
    address mailed and per client (429)."""
    return service.signup(session=session, vault=request.app.state.vault, body=body, client_ip=client_ip(request),
                          base_url=settings.public_base_url)


@router.post("/auth/login", response_model=TokenPublic, responses=errors(401, 429), tags=AUTH)
def login(body: LoginCreate, request: Request, session: SessionDep, settings: SettingsDep) -> TokenPublic:
    """An API token for the e-mail address and password. After ten wrong passwords for an address (or a hundred from
    one client) within 15 minutes, every attempt gets 429 with Retry-After for 15 minutes."""
    return service.login(session=session, body=body, token_ttl_s=settings.access_token_ttl_s,
                         client_ip=client_ip(request), kind=TokenKind.api,
                         user_agent=request.headers.get("user-agent"))


@router.post("/auth/password-reset", response_model=MailSentPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(429), tags=AUTH)
def password_reset(body: PasswordResetCreate, request: Request, session: SessionDep,
                   settings: SettingsDep) -> MailSentPublic:
    """Mails a link to set a new password (once, within 30 minutes) to the address's account; an address without an
    account gets a note saying so, and the answer is the same. Limited per address mailed and per client (429)."""
    return service.request_password_reset(session=session, vault=request.app.state.vault, email=body.email,
                                          client_ip=client_ip(request), base_url=settings.public_base_url,
                                          lang=body.locale or language_of(request))


@router.post("/auth/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             responses=errors(410), tags=AUTH)
def password_reset_confirm(body: PasswordResetConfirm, request: Request, session: SessionDep,
                           settings: SettingsDep):
    """Sets the new password with the mailed link's token: every log-in of the account ends (log in again with the
    new password). 410 for a link used, expired, or unknown."""
    service.reset_password(session=session, vault=request.app.state.vault, token=body.token, password=body.password,
                           base_url=settings.public_base_url)
    return Response(status_code=204)


@router.post("/auth/email-verification/confirm", response_model=EmailVerifiedPublic, responses=errors(410),
             tags=AUTH)
def email_verification_confirm(body: EmailVerificationConfirm, session: SessionDep) -> EmailVerifiedPublic:
    """Confirms the address with the mailed link's token (once, within 7 days). 410 for a link used, expired, or
    unknown."""
    user = service.verify_email(session=session, token=body.token)
    return EmailVerifiedPublic(email=user.email)


@router.get("/auth/siwe/nonce", tags=AUTH)
def siwe_nonce(session: SessionDep) -> dict:
    """A single-use nonce for a Sign-In with Ethereum (EIP-4361) message, valid for 10 minutes. A message built with
    it must carry the statement of its purpose (`statements`: to log in, or to move a custodial wallet), or it is
    refused (`invalid_siwe`, reason `wrong_purpose`)."""
    return {**siwe.new_nonce(session=session), "statements": siwe.STATEMENTS}


@router.get("/auth/siwe/message", tags=AUTH)
def siwe_message(request: Request, session: SessionDep, settings: SettingsDep,
                 address: str = Query(pattern=r"^0x[0-9a-fA-F]{40}$"), purpose: siwe.Purpose = "login") -> dict:
    """A ready Sign-In with Ethereum message for `address` (checksummed, fresh nonce, this site and chain) and
    `purpose` (`login`, or `wallet_export` to move a custodial wallet there; a message signed for one is refused for
    the other), for a wallet to sign with personal_sign: browsers need no Keccak of their own to build it."""
    return {"message": siwe.prepare_message(session=session, address=address, base_url=settings.public_base_url,
                                            chain_id=request.app.state.chain_id, purpose=purpose)}


@router.post("/auth/siwe/login", response_model=TokenPublic, responses=errors(400, 503), tags=AUTH)
def siwe_login(body: SiweLoginCreate, request: Request, session: SessionDep, settings: SettingsDep,
               w3: Web3Dep) -> TokenPublic:
    """Logs in (creating the account on first use) the owner of a wallet, proven by a SIWE message signed to log in:
    by the address's key, or, for a contract wallet (a Safe), accepted by the wallet itself (EIP-1271)."""
    return service.siwe_login(session=session, base_url=settings.public_base_url, chain_id=request.app.state.chain_id,
                              message=body.message, signature=body.signature,
                              token_ttl_s=settings.access_token_ttl_s, w3=w3)


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


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=errors(429),
               tags=ME)
def delete_account(body: PasswordConfirm, request: Request, session: SessionDep, user: CurrentUser):
    """Deletes the account's personal data, after the password is confirmed again (wrong ones are counted as at
    log-in: 429). Badges on chain stay, at a pseudonymous address."""
    service.delete_account(session=session, user=user, password=body.password, client_ip=client_ip(request))
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------- the account


@router.post("/me/email-verification", response_model=MailSentPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(409, 429), tags=ME)
def send_verification(request: Request, session: SessionDep, settings: SettingsDep,
                      user: CurrentUser) -> MailSentPublic:
    """Mails a new link that confirms the member's address (nothing for one already confirmed)."""
    return service.send_verification(session=session, vault=request.app.state.vault, user=user,
                                     base_url=settings.public_base_url)


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=errors(429),
            tags=ME)
def change_password(body: PasswordChange, request: Request, session: SessionDep, settings: SettingsDep,
                    user: CurrentUser, token: CurrentToken):
    """Changes the password, confirming the current one (wrong ones are counted as at log-in: 429). Every other
    log-in of the account ends; this one stays."""
    service.change_password(session=session, vault=request.app.state.vault, user=user,
                            current_password=body.current_password, new_password=body.new_password,
                            current_token=token, client_ip=client_ip(request), base_url=settings.public_base_url)
    return Response(status_code=204)


@router.get("/me/sessions", response_model=list[SessionPublic], tags=ME)
def sessions(session: SessionDep, user: CurrentUser, token: CurrentToken) -> list[SessionPublic]:
    """The member's log-ins that still work (web sessions and API tokens), newest first."""
    return service.sessions_of(session=session, user=user, current_token=token)


@router.delete("/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=errors(404), tags=ME)
def revoke_session(session: SessionDep, user: CurrentUser,
                   session_id: str = Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")):
    """Ends one of the member's log-ins at once (another device, an old API token)."""
    service.revoke_session(session=session, user=user, session_id=session_id)
    return Response(status_code=204)


@router.delete("/me/sessions", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=ME)
def log_out_everywhere(session: SessionDep, user: CurrentUser):
    """Logs out everywhere: every log-in of the member ends at once, this one included."""
    service.log_out_everywhere(session=session, user=user)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------- own wallet


@router.post("/me/wallet/export", status_code=status.HTTP_202_ACCEPTED, responses=errors(400, 409, 429), tags=ME)
def export_wallet(body: WalletExportCreate, request: Request, session: SessionDep, settings: SettingsDep,
                  services: ServicesDep, user: CurrentUser, w3: Web3Dep) -> dict:
    """Moves everything from the custodial wallet to the member's own address (proven by a SIWE message signed
    there for this move, `purpose=wallet_export`), after the password is confirmed again."""
    return wallet_export.export_wallet(
        session=session, vault=request.app.state.vault, badges=services.contracts.badges, user=user,
        password=body.password, message=body.message, signature=body.signature, base_url=settings.public_base_url,
        chain_id=request.app.state.chain_id, w3=w3, client_ip=client_ip(request))


@router.get("/me/wallet/export", responses=errors(404), tags=ME)
def export_status(session: SessionDep, user: CurrentUser) -> dict:
    return wallet_export.export_status(session=session, user=user)
