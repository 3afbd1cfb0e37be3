"""Moving to one's own wallet: everything (badges, points, voting power) goes to an address the member proves with
Sign-In with Ethereum, through the contracts' migration; afterwards the backend holds no key for them."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.accounts import passwords
from backend.accounts.models import ExportStatus, User, WalletExport, WalletKind
from backend.accounts.siwe import verify_siwe
from backend.claims import refusals
from backend.claims.models import Claim, ClaimStatus
from backend.platform.chain.eip712 import MIGRATION_TYPES, domain_from_erc5267, sign_typed
from backend.platform.errors import Conflict, Invalid, NotFound, Unauthorized
from backend.platform.keys import KeyVault, SealedKey

EXPORT_DEADLINE_S = 3600  # the signed consent is valid for an hour; the relayer sends it within seconds
BUSY_RETRY_AFTER_S = 30  # a badge on its way is confirmed within seconds; a move, within a minute


def export_public(export: WalletExport) -> dict:
    return {"id": export.id, "status": export.status.value, "from_address": export.from_address,
            "to_address": export.to_address, "failure": export.failure}


def export_wallet(*, session: Session, vault: KeyVault, badges, user: User, password: str, message: str,
                  signature: str, base_url: str, chain_id: int, w3: Web3 | None = None,
                  client_ip: str | None = None) -> dict:
    """Moves everything from the custodial wallet to the member's own address (proven by a SIWE message signed
    there for this move, by an EOA or, through the node `w3`, a contract wallet), after the password is confirmed
    again: the member's migration consent is signed with the custodial key here, and the relayer sends it (`badges`
    is the badge contract, whose EIP-712 domain and nonces it needs)."""
    if user.wallet_kind != WalletKind.custodial or user.custodial_key is None:
        raise Conflict("not_custodial")
    if user.password_hash is None:
        raise Unauthorized("invalid_credentials")
    passwords.check_again(session=session, user=user, password=password, client_ip=client_ip)  # throttled
    to = verify_siwe(session=session, base_url=base_url, chain_id=chain_id, message=message, signature=signature,
                     purpose="wallet_export", w3=w3)
    if to == user.wallet_address:
        raise Invalid("same_address")
    if session.scalar(select(User).where(User.wallet_address == to, User.id != user.id)) is not None:
        raise Conflict("address_has_account")
    busy = session.scalar(select(func.count()).select_from(Claim).where(
        Claim.user_id == user.id, Claim.status.in_((ClaimStatus.accepted, ClaimStatus.submitted))))
    open_export = session.scalar(select(WalletExport).where(
        WalletExport.user_id == user.id, WalletExport.status.in_((ExportStatus.pending, ExportStatus.submitted))))
    if busy or open_export is not None:
        raise Conflict("busy", retry_after=BUSY_RETRY_AFTER_S)
    refused_code = refusals.stored_hash_of(session, to)
    if refused_code is not None and w3 is not None and refusals.refuse_if_unchanged(
            stored_hash=refused_code, current_hash=refusals.code_hash(w3, to), address=to):
        refusals.forget(session, address=to, stored_hash=refused_code)  # committed with the export below
    account = vault.open(SealedKey(user.custodial_key.address, user.custodial_key.sealed))
    deadline = int(time.time()) + EXPORT_DEADLINE_S
    consent = {"from": user.wallet_address, "to": to, "nonce": badges.functions.nonces(user.wallet_address).call(),
               "deadline": deadline}
    domain = domain_from_erc5267(badges.functions.eip712Domain().call())
    export = WalletExport(user_id=user.id, from_address=user.wallet_address, to_address=to, deadline=deadline,
                          signature=sign_typed(account.key, domain, "Migration", MIGRATION_TYPES, consent))
    session.add(export)
    session.commit()
    return export_public(export)


def export_status(*, session: Session, user: User) -> dict:
    """The member's latest move to an own wallet."""
    export = session.scalar(select(WalletExport).where(WalletExport.user_id == user.id)
                            .order_by(WalletExport.id.desc()))
    if export is None:
        raise NotFound("no_export")
    return export_public(export)
