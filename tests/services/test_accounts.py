"""The rules of accounts: sign-up with a custodial wallet, log-in, tokens that expire, Sign-In with Ethereum (nonces
used once, this site's chain), the member's own data and its deletion, and the move to a wallet of one's own."""

from __future__ import annotations

import base64
import itertools
import os
from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import select

from backend.accounts import service as accounts
from backend.accounts import siwe, wallet_export
from backend.accounts.deps import get_current_user
from backend.accounts.models import AccessToken, CustodialKey, ExportStatus, SiweNonce, User, WalletExport, WalletKind
from backend.accounts.schemas import LoginCreate, SignupCreate
from backend.claims.models import BadgeHolding, Claim, ClaimMethod, ClaimStatus, PointsBalance
from backend.organizations.models import Membership, Role
from backend.platform.chain.eip712 import MIGRATION_TYPES, domain_from_erc5267, typed_data
from backend.platform.errors import Conflict, Invalid, NotFound, Unauthorized
from backend.platform.keys import KeyVault, SealedKey
from backend.platform.models import OutboundTx, TxStatus
from backend.platform.orm import utcnow
from backend.platform.security import secret_hash
from tests.services.factories import make_event, make_organization

BASE_URL = "https://kyoso.example"
CHAIN_ID = 31337
TTL_S = 3600
PASSWORD = "kenrokuen-2026"
_numbers = itertools.count(1)


@pytest.fixture
def vault() -> KeyVault:
    return KeyVault(base64.b64encode(os.urandom(32)).decode())


def signup(session, vault, email: str = "", password: str = PASSWORD):
    """Signs up, then logs in with the password chosen (as the web form does at once): the account and its token."""
    email = email or f"member{next(_numbers)}@example.jp"
    accounts.signup(session=session, vault=vault, client_ip=None, base_url=BASE_URL,
                    body=SignupCreate(email=email, password=password, display_name="Hanako"))
    token = accounts.login(session=session, body=LoginCreate(email=email, password=password), token_ttl_s=TTL_S)
    return session.scalar(select(User).where(User.email == email.lower())), token


def member_of(session, raw_token: str) -> User:
    """The member a request with this bearer token is answered for."""
    return get_current_user(None, session, HTTPAuthorizationCredentials(scheme="Bearer", credentials=raw_token))


def signed(wallet, message: str) -> str:
    return "0x" + Account.sign_message(encode_defunct(text=message), wallet.key).signature.hex().removeprefix("0x")


def siwe_message(session, wallet, chain_id: int = CHAIN_ID, purpose: str = "login") -> str:
    return siwe.prepare_message(session=session, address=wallet.address.lower(), base_url=BASE_URL, chain_id=chain_id,
                                purpose=purpose)


# ---------------------------------------------------------------------------------------------------- sign-up, log-in


def test_signup_gives_a_custodial_wallet_whose_key_is_sealed(session, vault):
    user, token = signup(session, vault, email="Hanako@Example.JP")
    assert user.email == "hanako@example.jp" and user.wallet_kind == WalletKind.custodial
    assert user.password_hash != PASSWORD
    key = user.custodial_key
    assert vault.open(SealedKey(key.address, key.sealed)).address == user.wallet_address
    assert member_of(session, token.access_token).id == user.id


def test_signup_with_an_e_mail_address_already_registered_makes_no_account_and_answers_alike(session, vault):
    owner, _ = signup(session, vault, email="taro@example.jp")
    again = accounts.signup(session=session, vault=vault, client_ip=None, base_url=BASE_URL,
                            body=SignupCreate(email="TARO@example.jp", password="another-password"))
    assert again.model_dump() == {"status": "mail_sent", "email": "taro@example.jp"}
    assert session.scalars(select(User).where(User.email == "taro@example.jp")).all() == [owner]
    with pytest.raises(Unauthorized):  # the password of that sign-up opens nothing
        accounts.login(session=session, body=LoginCreate(email="taro@example.jp", password="another-password"),
                       token_ttl_s=TTL_S)


def test_login_with_the_right_password_gives_a_new_token(session, vault):
    user, first = signup(session, vault, email="jiro@example.jp")
    token = accounts.login(session=session, body=LoginCreate(email="JIRO@example.jp", password=PASSWORD),
                           token_ttl_s=TTL_S)
    assert token.access_token != first.access_token and member_of(session, token.access_token).id == user.id


@pytest.mark.parametrize("email, password", [
    ("saburo@example.jp", "wrong-password"),
    ("nobody@example.jp", PASSWORD),
])
def test_login_with_a_wrong_password_or_an_unknown_address_is_unauthorized(session, vault, email, password):
    signup(session, vault, email="saburo@example.jp")
    with pytest.raises(Unauthorized) as refused:
        accounts.login(session=session, body=LoginCreate(email=email, password=password), token_ttl_s=TTL_S)
    assert refused.value.code == "invalid_credentials" and refused.value.status == 401


def test_an_account_without_a_password_cannot_log_in_with_one(session):
    session.add(User(email="siwe@example.jp", wallet_address="0x" + "ab" * 20, wallet_kind=WalletKind.own))
    session.commit()
    with pytest.raises(Unauthorized, match="invalid_credentials"):
        accounts.login(session=session, body=LoginCreate(email="siwe@example.jp", password="anything"),
                       token_ttl_s=TTL_S)


def test_a_token_stores_only_its_hash_and_stops_working_when_it_expires(session, vault):
    user, token = signup(session, vault)
    row = session.get(AccessToken, secret_hash(token.access_token))
    assert row is not None and session.get(AccessToken, token.access_token) is None
    assert abs((row.expires_at - utcnow()) - timedelta(seconds=TTL_S)) < timedelta(seconds=5)
    assert token.expires_at == row.expires_at
    assert member_of(session, token.access_token).id == user.id
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(Unauthorized) as refused:
        member_of(session, token.access_token)
    assert refused.value.code == "not_authenticated"


def test_a_revoked_token_stops_working_at_once_and_revoking_it_again_does_nothing(session, vault):
    _, token = signup(session, vault)
    accounts.revoke_token(session=session, token=token.access_token)
    assert session.get(AccessToken, secret_hash(token.access_token)) is None
    with pytest.raises(Unauthorized):
        member_of(session, token.access_token)
    accounts.revoke_token(session=session, token=token.access_token)


# ---------------------------------------------------------------------------------------------------- SIWE


def test_siwe_message_names_this_site_and_chain_and_the_checksummed_address(session):
    wallet = Account.create()
    message = siwe_message(session, wallet)
    assert wallet.address in message and f"Chain ID: {CHAIN_ID}" in message and "kyoso.example wants" in message
    assert session.scalars(select(SiweNonce)).one().used_at is None


def test_siwe_nonce_is_alphanumeric_and_lasts_ten_minutes(session):
    nonce = siwe.new_nonce(session=session)
    assert nonce["nonce"].isalnum() and nonce["expires_in_s"] == 600
    assert session.get(SiweNonce, nonce["nonce"]) is not None


def test_siwe_message_is_accepted_once(session):
    wallet = Account.create()
    message = siwe_message(session, wallet)
    signature = signed(wallet, message)
    address = siwe.verify_siwe(session=session, purpose="login", base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                               signature=signature)
    assert address == wallet.address
    with pytest.raises(Invalid) as replay:
        siwe.verify_siwe(session=session, purpose="login", base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                         signature=signature)
    assert replay.value.code == "invalid_siwe" and replay.value.params == {"reason": "nonce_unknown_used_or_expired"}


def test_siwe_nonce_expires(session):
    wallet = Account.create()
    message = siwe_message(session, wallet)
    session.scalars(select(SiweNonce)).one().expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(Invalid) as refused:
        siwe.verify_siwe(session=session, purpose="login", base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                         signature=signed(wallet, message))
    assert refused.value.params == {"reason": "nonce_unknown_used_or_expired"}


def test_siwe_message_for_another_chain_is_refused_and_its_nonce_stays_unused(session):
    wallet = Account.create()
    message = siwe_message(session, wallet, chain_id=1)
    with pytest.raises(Invalid) as refused:
        siwe.verify_siwe(session=session, purpose="login", base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                         signature=signed(wallet, message))
    assert refused.value.code == "invalid_siwe"
    assert refused.value.params == {"reason": "wrong_chain", "message_chain_id": 1, "chain_id": CHAIN_ID}
    assert session.scalars(select(SiweNonce)).one().used_at is None


@pytest.mark.parametrize("tamper, reason", [
    (lambda message, wallet: ("not a SIWE message", signed(wallet, message)), "malformed_message"),
    (lambda message, wallet: (message, signed(Account.create(), message)), "invalid_signature"),
])
def test_siwe_refuses_a_malformed_message_or_another_wallets_signature(session, tamper, reason):
    wallet = Account.create()
    message, signature = tamper(siwe_message(session, wallet), wallet)
    with pytest.raises(Invalid) as refused:
        siwe.verify_siwe(session=session, purpose="login", base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                         signature=signature)
    assert refused.value.code == "invalid_siwe" and refused.value.params == {"reason": reason}


def test_siwe_message_signed_for_another_site_is_refused(session):
    wallet = Account.create()
    message = siwe.prepare_message(session=session, address=wallet.address, base_url="https://evil.example",
                                   chain_id=CHAIN_ID)
    with pytest.raises(Invalid) as refused:
        siwe.verify_siwe(session=session, purpose="login", base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                         signature=signed(wallet, message))
    assert refused.value.params == {"reason": "domain_mismatch"}


@pytest.mark.parametrize("signed_for, used_for", [("login", "wallet_export"), ("wallet_export", "login")])
def test_a_siwe_message_serves_only_the_purpose_it_was_signed_for(session, signed_for, used_for):
    wallet = Account.create()
    message = siwe_message(session, wallet, purpose=signed_for)
    assert siwe.STATEMENTS[signed_for] in message  # what the wallet shows its owner says what the signature is for
    signature = signed(wallet, message)
    with pytest.raises(Invalid) as refused:
        siwe.verify_siwe(session=session, purpose=used_for, base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                         signature=signature)
    assert refused.value.code == "invalid_siwe"
    assert refused.value.params == {"reason": "wrong_purpose", "purpose": used_for}
    assert session.scalars(select(SiweNonce)).one().used_at is None
    assert siwe.verify_siwe(session=session, purpose=signed_for, base_url=BASE_URL, chain_id=CHAIN_ID,
                            message=message, signature=signature) == wallet.address


def test_a_message_signed_to_log_in_cannot_move_a_custodial_wallet(session, vault):
    user, _ = signup(session, vault)
    wallet = Account.create()
    message = siwe_message(session, wallet, purpose="login")
    with pytest.raises(Invalid) as refused:
        wallet_export.export_wallet(session=session, vault=vault, badges=None, user=user, password=PASSWORD,
                                    message=message, signature=signed(wallet, message), base_url=BASE_URL,
                                    chain_id=CHAIN_ID)
    assert refused.value.params == {"reason": "wrong_purpose", "purpose": "wallet_export"}
    assert session.scalars(select(WalletExport)).all() == []


def test_a_message_signed_to_move_a_wallet_cannot_log_in(session):
    wallet = Account.create()
    message = siwe_message(session, wallet, purpose="wallet_export")
    with pytest.raises(Invalid) as refused:
        accounts.siwe_login(session=session, base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                            signature=signed(wallet, message), token_ttl_s=TTL_S)
    assert refused.value.params == {"reason": "wrong_purpose", "purpose": "login"}
    assert session.scalars(select(User).where(User.wallet_address == wallet.address)).all() == []


def test_siwe_login_creates_an_own_wallet_account_once(session):
    wallet = Account.create()

    def log_in():
        message = siwe_message(session, wallet)
        token = accounts.siwe_login(session=session, base_url=BASE_URL, chain_id=CHAIN_ID, message=message,
                                    signature=signed(wallet, message), token_ttl_s=TTL_S)
        return member_of(session, token.access_token)

    first, second = log_in(), log_in()
    assert first.id == second.id and first.wallet_address == wallet.address
    assert first.wallet_kind == WalletKind.own and first.email is None and first.custodial_key is None


# ---------------------------------------------------------------------------------------------------- own data






organization, event = make_organization, make_event


def test_wallet_shows_indexed_badges_points_and_a_badge_just_confirmed(session, vault):
    user, _ = signup(session, vault)
    org = organization(session)
    indexed, confirmed = event(session, org), event(session, org)
    session.add(BadgeHolding(holder=user.wallet_address, token_id=indexed.token_id, block_number=7,
                             tx_hash="0x" + "11" * 32))
    session.add(PointsBalance(holder=user.wallet_address, balance=20, votes=15))
    tx = OutboundTx(sender="0x" + "22" * 20, nonce=0, purpose="issue", tx_hash="0x" + "33" * 32, raw=b"",
                    status=TxStatus.mined, gas_limit=100_000, block_number=9)
    session.add(tx)
    session.flush()
    session.add(Claim(user_id=user.id, event_id=confirmed.id, recipient=user.wallet_address, method=ClaimMethod.code,
                      status=ClaimStatus.confirmed, tx_id=tx.id))
    session.commit()
    wallet = accounts.wallet_view(session=session, user=user, base_url=BASE_URL)
    assert (wallet.points, wallet.voting_power, wallet.kind) == (20, 15, WalletKind.custodial)
    assert [(b.event_id, b.block_number) for b in wallet.badges] == [(confirmed.id, 9), (indexed.id, 7)]
    assert wallet.badges[1].image_url == f"{BASE_URL}/metadata/{indexed.token_id:064x}.svg"


def test_my_data_holds_profile_claims_and_roles_but_no_secret(session, vault):
    user, token = signup(session, vault)
    org = organization(session)
    session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.organizer))
    session.add(Claim(user_id=user.id, event_id=event(session, org).id, recipient=user.wallet_address,
                      method=ClaimMethod.code))
    session.commit()
    data = accounts.my_data(session=session, user=user, explorer_tx_url="https://explorer.example/tx/{}")
    assert data["profile"]["email"] == user.email and len(data["claims"]) == 1
    assert data["organizations"] == [{"organization_id": org.id, "role": "organizer"}]
    text = repr(data)
    assert user.password_hash not in text and token.access_token not in text and "sealed" not in text


def test_delete_account_needs_the_password(session, vault):
    user, token = signup(session, vault)
    with pytest.raises(Unauthorized) as refused:
        accounts.delete_account(session=session, user=user, password="wrong-password")
    assert refused.value.code == "invalid_credentials"
    assert user.deleted_at is None and member_of(session, token.access_token).id == user.id


def test_delete_account_removes_personal_data_tokens_and_the_key(session, vault):
    user, token = signup(session, vault, email="delete-me@example.jp")
    address = user.wallet_address
    accounts.delete_account(session=session, user=user, password=PASSWORD)
    session.expire_all()
    gone = session.get(User, user.id)
    assert (gone.email, gone.password_hash, gone.display_name) == (None, None, None)
    assert gone.deleted_at is not None and gone.wallet_address == address  # the badges stay, pseudonymous
    assert session.scalar(select(CustodialKey).where(CustodialKey.user_id == user.id)) is None
    assert session.scalar(select(AccessToken).where(AccessToken.user_id == user.id)) is None
    with pytest.raises(Unauthorized):
        member_of(session, token.access_token)
    with pytest.raises(Unauthorized, match="invalid_credentials"):
        accounts.login(session=session, body=LoginCreate(email="delete-me@example.jp", password=PASSWORD),
                       token_ttl_s=TTL_S)


# ---------------------------------------------------------------------------------------------------- own wallet


def export(session, vault, user, wallet, password: str = PASSWORD, badges=None) -> dict:
    message = siwe_message(session, wallet, purpose="wallet_export")
    return wallet_export.export_wallet(session=session, vault=vault, badges=badges, user=user, password=password,
                                       message=message, signature=signed(wallet, message), base_url=BASE_URL,
                                       chain_id=CHAIN_ID)


def test_an_own_wallet_account_has_nothing_to_move(session, vault):
    user = User(wallet_address=Account.create().address, wallet_kind=WalletKind.own)
    session.add(user)
    session.commit()
    with pytest.raises(Conflict) as refused:
        export(session, vault, user, Account.create())
    assert refused.value.code == "not_custodial"


def test_moving_the_wallet_needs_the_password(session, vault):
    user, _ = signup(session, vault)
    with pytest.raises(Unauthorized, match="invalid_credentials"):
        export(session, vault, user, Account.create(), password="wrong-password")


def test_moving_to_the_custodial_address_itself_is_invalid(session, vault):
    user, _ = signup(session, vault)
    key = user.custodial_key
    with pytest.raises(Invalid) as refused:
        export(session, vault, user, vault.open(SealedKey(key.address, key.sealed)))
    assert refused.value.code == "same_address"


def test_moving_to_a_wallet_with_its_own_account_is_a_conflict(session, vault):
    user, _ = signup(session, vault)
    wallet = Account.create()
    session.add(User(wallet_address=wallet.address, wallet_kind=WalletKind.own))
    session.commit()
    with pytest.raises(Conflict) as refused:
        export(session, vault, user, wallet)
    assert refused.value.code == "address_has_account"


@pytest.mark.parametrize("pending", ["claim", "export"])
def test_moving_waits_for_a_badge_or_a_move_on_its_way(session, vault, pending):
    user, _ = signup(session, vault)
    if pending == "claim":
        session.add(Claim(user_id=user.id, event_id=event(session, organization(session)).id,
                          recipient=user.wallet_address, method=ClaimMethod.code, status=ClaimStatus.submitted))
    else:
        session.add(WalletExport(user_id=user.id, from_address=user.wallet_address, to_address="0x" + "44" * 20,
                                 deadline=0, signature=b"", status=ExportStatus.pending))
    session.commit()
    with pytest.raises(Conflict) as refused:
        export(session, vault, user, Account.create())
    assert refused.value.code == "busy" and refused.value.headers == {"Retry-After": "30"}


def test_export_status_is_not_found_before_any_move(session, vault):
    user, _ = signup(session, vault)
    with pytest.raises(NotFound) as refused:
        wallet_export.export_status(session=session, user=user)
    assert refused.value.code == "no_export"
    session.add(WalletExport(user_id=user.id, from_address=user.wallet_address, to_address="0x" + "55" * 20,
                             deadline=0, signature=b"", status=ExportStatus.failed, failure="reverted"))
    session.commit()
    assert wallet_export.export_status(session=session, user=user)["failure"] == "reverted"


class _Call:
    def __init__(self, value):
        self.value = value

    def call(self):
        return self.value


class _Badges:
    """What the move reads from the badge contract: the holder's migration nonce and the EIP-712 domain."""

    address = "0x" + "66" * 20

    class functions:  # noqa: N801 - web3's spelling
        @staticmethod
        def nonces(holder):
            return _Call(3)

        @staticmethod
        def eip712Domain():  # noqa: N802 - the contract's function
            return _Call((b"\x0f", "KyosoBadges", "1", CHAIN_ID, _Badges.address, b"\0" * 32, []))


def test_moving_stores_the_members_consent_signed_with_the_custodial_key(session, vault):
    user, _ = signup(session, vault)
    wallet = Account.create()
    answer = export(session, vault, user, wallet, badges=_Badges())
    assert answer["status"] == "pending" and answer["from_address"] == user.wallet_address
    assert answer["to_address"] == wallet.address
    stored = session.get(WalletExport, answer["id"])
    consent = {"from": user.wallet_address, "to": wallet.address, "nonce": 3, "deadline": stored.deadline}
    domain = domain_from_erc5267(_Badges.functions.eip712Domain().call())
    typed = encode_typed_data(full_message=typed_data(domain, "Migration", MIGRATION_TYPES, consent))
    assert Account.recover_message(typed, signature=stored.signature) == user.wallet_address
    with pytest.raises(Conflict, match="busy"):  # one move at a time
        export(session, vault, user, Account.create(), badges=_Badges())
