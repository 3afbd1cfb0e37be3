"""Moving to one's own wallet: everything (badges, points, voting power) goes to an address the member proves with
Sign-In with Ethereum, through the contracts' migration; afterwards the backend holds no key for them."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import func, select

from backend.api.errors import errors
from backend.api.routes.auth import verify_siwe
from backend.platform.chain.eip712 import MIGRATION_TYPES, domain_from_erc5267, sign_typed
from backend.platform.keys import SealedKey
from backend.platform.security import verify_password
from backend.api.deps import CurrentUser, ServicesDep, SessionDep, SettingsDep
from backend.accounts.models import ExportStatus, User, WalletExport, WalletKind
from backend.claims.models import Claim, ClaimStatus
from backend.accounts.schemas import WalletExportCreate

router = APIRouter(prefix="/me/wallet", tags=["me"])

EXPORT_DEADLINE_S = 3600  # the signed consent is valid for an hour; the relayer sends it within seconds


def export_public(export: WalletExport) -> dict:
    return {"id": export.id, "status": export.status.value, "from_address": export.from_address,
            "to_address": export.to_address, "failure": export.failure}


@router.post("/export", status_code=status.HTTP_202_ACCEPTED, responses=errors(400, 409))
def export_wallet(body: WalletExportCreate, request: Request, session: SessionDep, settings: SettingsDep,
                  services: ServicesDep, user: CurrentUser) -> dict:
    """Moves everything from the custodial wallet to the member's own address (proven by a SIWE message signed
    there), after the password is confirmed again."""
    if user.wallet_kind != WalletKind.custodial or user.custodial_key is None:
        raise HTTPException(409, {"error": "not_custodial", "message": "This account already uses its own wallet."})
    if user.password_hash is None or not verify_password(user.password_hash, body.password):
        raise HTTPException(401, {"error": "invalid_credentials", "message": "Wrong password. / パスワードが違います。"})
    to = verify_siwe(session, settings, request.app.state.chain_id, body.message, body.signature)
    if to == user.wallet_address:
        raise HTTPException(400, {"error": "same_address", "message": "That is the custodial address itself."})
    if session.scalar(select(User).where(User.wallet_address == to, User.id != user.id)) is not None:
        raise HTTPException(409, {"error": "address_has_account",
                                  "message": "That wallet already has its own Kyoso account. / "
                                             "このウォレットには別のアカウントがあります。"})
    busy = session.scalar(select(func.count()).select_from(Claim).where(
        Claim.user_id == user.id, Claim.status.in_((ClaimStatus.accepted, ClaimStatus.submitted))))
    open_export = session.scalar(select(WalletExport).where(
        WalletExport.user_id == user.id, WalletExport.status.in_((ExportStatus.pending, ExportStatus.submitted))))
    if busy or open_export is not None:
        raise HTTPException(409, {"error": "busy", "message": "A badge or a move is still on its way; try again in a "
                                                              "minute. / 処理中です。少し待ってからお試しください。"},
                            headers={"Retry-After": "30"})
    badges = services.contracts.badges
    account = request.app.state.vault.open(SealedKey(user.custodial_key.address, user.custodial_key.sealed))
    deadline = int(time.time()) + EXPORT_DEADLINE_S
    message = {"from": user.wallet_address, "to": to, "nonce": badges.functions.nonces(user.wallet_address).call(),
               "deadline": deadline}
    domain = domain_from_erc5267(badges.functions.eip712Domain().call())
    signature = sign_typed(account.key, domain, "Migration", MIGRATION_TYPES, message)
    export = WalletExport(user_id=user.id, from_address=user.wallet_address, to_address=to, deadline=deadline,
                          signature=signature)
    session.add(export)
    session.commit()
    return export_public(export)


@router.get("/export", responses=errors(404))
def export_status(session: SessionDep, user: CurrentUser) -> dict:
    export = session.scalar(select(WalletExport).where(WalletExport.user_id == user.id)
                            .order_by(WalletExport.id.desc()))
    if export is None:
        raise HTTPException(404, {"error": "no_export", "message": "No move to an own wallet was requested."})
    return export_public(export)
