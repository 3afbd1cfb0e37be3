"""A custodial member moves everything to a wallet of their own, proven with Sign-In with Ethereum."""

from __future__ import annotations

from datetime import datetime, timezone

from brownie import web3
from eth_account import Account
from eth_account.messages import encode_defunct
from siwe import SiweMessage

from backend.accounts.models import CustodialKey
from backend.accounts.siwe import STATEMENTS
from tests.backend.conftest import Api, codes, organizer_with_event, wait_confirmed, wait_for


def siwe_proof(client, wallet, domain: str = "testserver", chain_id: int = 31337,
               purpose: str = "wallet_export") -> dict:
    nonce = client.get("/auth/siwe/nonce").json()["nonce"]
    message = SiweMessage(
        domain=domain, address=wallet.address, uri=f"http://{domain}", version="1", chain_id=chain_id, nonce=nonce,
        issued_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        statement=STATEMENTS[purpose],  # what binds the message to its purpose
    ).prepare_message()
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.hex()
    return {"message": message, "signature": "0x" + signature.removeprefix("0x")}


def test_export_moves_badges_points_and_votes_and_destroys_the_key(client, suite):
    organizer, _, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    member = Api(client)
    custodial = member.me()["wallet_address"]
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()
    wait_confirmed(member, claim["id"])
    own = Account.create()

    response = member.post("/me/wallet/export", {"password": member.password, **siwe_proof(client, own)})
    assert response.status_code == 202, response.text
    wait_for(lambda: member.get("/me/wallet/export").json()["status"] == "done", what="export done")

    assert suite.badges.balanceOf(own.address, event["token_id"]) == 1
    assert suite.points.balanceOf(own.address) == 10 and suite.points.getVotes(own.address) == 10
    assert suite.badges.balanceOf(custodial, event["token_id"]) == 0 and suite.points.balanceOf(custodial) == 0
    me = member.me()
    assert me["wallet_address"] == own.address and me["wallet_kind"] == "own"
    with client.app.state.session_factory() as session:  # a reorg could still hand the badges back to it
        assert session.get(CustodialKey, me["id"]) is not None
    web3.provider.make_request("anvil_mine", [70, 0])  # Anvil finalizes a block once 64 more are on top of it
    wait_for(lambda: key_of(client, me["id"]) is None, timeout=30, what="the custodial key destroyed once final")


def key_of(client, user_id: int) -> CustodialKey | None:
    with client.app.state.session_factory() as session:
        return session.get(CustodialKey, user_id)


def test_export_needs_the_password_and_a_valid_siwe_proof(client):
    member = Api(client)
    own = Account.create()
    wrong_password = member.post("/me/wallet/export", {"password": "nope-nope", **siwe_proof(client, own)})
    assert wrong_password.status_code == 401
    other_chain = member.post("/me/wallet/export", {"password": member.password,
                                                    **siwe_proof(client, own, chain_id=1)})
    assert other_chain.status_code == 400 and other_chain.json()["error"] == "invalid_siwe"
    proof = siwe_proof(client, own)
    forged = {**proof, "signature": siwe_proof(client, Account.create())["signature"]}
    assert member.post("/me/wallet/export", {"password": member.password, **forged}).status_code == 400
    wrong_domain = member.post("/me/wallet/export", {"password": member.password,
                                                     **siwe_proof(client, own, domain="evil.example")})
    assert wrong_domain.status_code == 400


def test_siwe_login_creates_an_own_wallet_account(client):
    own = Account.create()
    response = client.post("/auth/siwe/login", json=siwe_proof(client, own, purpose="login"))
    assert response.status_code == 200, response.text
    me = client.get("/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}).json()
    assert me["wallet_address"] == own.address and me["wallet_kind"] == "own"
    replay = client.post("/auth/siwe/login", json={**siwe_proof(client, own, purpose="login")})
    assert replay.status_code == 200


def test_export_to_a_wallet_that_has_its_own_account_is_409(client):
    own = Account.create()
    assert client.post("/auth/siwe/login", json=siwe_proof(client, own, purpose="login")).status_code == 200
    member = Api(client)
    response = member.post("/me/wallet/export", {"password": member.password, **siwe_proof(client, own)})
    assert response.status_code == 409 and response.json()["error"] == "address_has_account"
