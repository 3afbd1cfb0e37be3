"""Sign-In with Ethereum against the real node: a contract wallet (EIP-1271, a minimal owner-signed wallet deployed on
Anvil, as a Safe signs) logs in and moves a custodial wallet there; a signature the wallet does not accept is a clear
400; a message signed to log in cannot move a wallet, and one signed to move a wallet cannot log in."""

from __future__ import annotations

from brownie import OwnerSignedWallet, accounts
from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct

from tests.backend.conftest import Api, wait_for


def message_for(client, address: str, purpose: str) -> str:
    response = client.get("/auth/siwe/message", params={"address": address, "purpose": purpose})
    assert response.status_code == 200, response.text
    return response.json()["message"]


def eoa_signature(wallet, message: str) -> str:
    return "0x" + Account.sign_message(encode_defunct(text=message), wallet.key).signature.hex().removeprefix("0x")


def contract_wallet_signature(owner, message: str) -> str:
    """What the wallet checks: its owner's signature of the message's EIP-191 hash (a Safe's owner signs the same)."""
    signed = Account.unsafe_sign_hash(defunct_hash_message(text=message), owner.key)
    return "0x" + signed.signature.hex().removeprefix("0x")


def test_a_contract_wallet_logs_in_with_an_eip1271_signature_and_a_wrong_one_is_refused(client):
    owner = Account.create()
    wallet = OwnerSignedWallet.deploy(owner.address, {"from": accounts[0]})
    message = message_for(client, wallet.address, "login")

    forged = contract_wallet_signature(Account.create(), message)
    stranger = client.post("/auth/siwe/login", json={"message": message, "signature": forged})
    assert stranger.status_code == 400
    assert stranger.json()["error"] == "invalid_siwe" and stranger.json()["reason"] == "invalid_signature"
    garbage = client.post("/auth/siwe/login", json={"message": message, "signature": "0x" + "ab" * 200})
    assert garbage.status_code == 400 and garbage.json()["reason"] == "invalid_signature"
    odd = client.post("/auth/siwe/login", json={"message": message, "signature": "0x123"})
    assert odd.status_code == 422

    # the refusals spent nothing: the owner's signature of the same message logs the wallet in
    response = client.post("/auth/siwe/login", json={"message": message,
                                                      "signature": contract_wallet_signature(owner, message)})
    assert response.status_code == 200, response.text
    me = client.get("/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}).json()
    assert me["wallet_address"] == wallet.address and me["wallet_kind"] == "own"


def test_an_address_without_code_needs_its_own_key(client):
    own = Account.create()
    message = message_for(client, own.address, "login")
    forged = client.post("/auth/siwe/login", json={"message": message,
                                                    "signature": contract_wallet_signature(Account.create(), message)})
    assert forged.status_code == 400 and forged.json()["reason"] == "invalid_signature"
    assert client.post("/auth/siwe/login", json={"message": message,
                                                  "signature": eoa_signature(own, message)}).status_code == 200


def test_a_login_message_cannot_move_a_wallet_nor_an_export_message_log_in(client):
    member = Api(client)
    own = Account.create()
    for_login = message_for(client, own.address, "login")
    for_export = message_for(client, own.address, "wallet_export")

    export = member.post("/me/wallet/export", {"password": member.password, "message": for_login,
                                               "signature": eoa_signature(own, for_login)})
    assert export.status_code == 400
    assert export.json()["error"] == "invalid_siwe" and export.json()["reason"] == "wrong_purpose"
    assert member.get("/me/wallet/export").status_code == 404  # nothing was started

    login = client.post("/auth/siwe/login", json={"message": for_export, "signature": eoa_signature(own, for_export)})
    assert login.status_code == 400 and login.json()["reason"] == "wrong_purpose"

    # each still serves its own purpose
    assert client.post("/auth/siwe/login", json={"message": for_login,
                                                  "signature": eoa_signature(own, for_login)}).status_code == 200
    other = Api(client)
    moved_to = Account.create()
    for_export = message_for(client, moved_to.address, "wallet_export")
    export = other.post("/me/wallet/export", {"password": other.password, "message": for_export,
                                              "signature": eoa_signature(moved_to, for_export)})
    assert export.status_code == 202, export.text
    wait_for(lambda: other.get("/me/wallet/export").json()["status"] == "done", what="export done")


def test_a_custodial_wallet_moves_to_a_contract_wallet(client, suite):
    member = Api(client)
    owner = Account.create()
    wallet = OwnerSignedWallet.deploy(owner.address, {"from": accounts[0]})
    message = message_for(client, wallet.address, "wallet_export")
    export = member.post("/me/wallet/export", {"password": member.password, "message": message,
                                               "signature": contract_wallet_signature(owner, message)})
    assert export.status_code == 202, export.text
    wait_for(lambda: member.get("/me/wallet/export").json()["status"] == "done", what="export done")
    assert member.me()["wallet_address"] == wallet.address
