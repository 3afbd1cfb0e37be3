"""The web app's session: an HttpOnly cookie that the JSON API accepts for reading, and for writing only with the
X-Kyoso-Request header that other sites cannot send (CSRF); its forms refuse posts from other sites."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct

from backend.accounts import service as accounts_service

SITE = "http://testserver"


def test_cookie_session_reads_freely_and_writes_only_with_the_header(client):
    signup = client.post(f"{SITE}/signup", data={"email": "hanako@example.jp", "password": "kenrokuen-2026"},
                         headers={"Origin": SITE}, follow_redirects=False)
    assert signup.status_code == 303 and signup.headers["location"] == "/me"
    cookie = signup.headers["set-cookie"]
    assert "kyoso_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/me").json()["email"] == "hanako@example.jp"
    with client.app.state.session_factory() as session:  # founding an organization needs a confirmed address
        accounts_service.mark_verified(session=session, email="hanako@example.jp")
    body = {"name_ja": "金沢市", "name_en": "Kanazawa City"}
    forged = client.post("/organizations", json=body)  # what a form on another site could make the browser send
    assert forged.status_code == 401
    assert client.post("/organizations", json=body, headers={"X-Kyoso-Request": "1"}).status_code == 201
    assert client.get(f"{SITE}/me").status_code == 200


def test_forms_from_other_sites_are_refused(client):
    response = client.post(f"{SITE}/signup", data={"email": "evil@example.jp", "password": "password-123"},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    assert client.post(f"{SITE}/login", data={"email": "x@example.jp", "password": "y"},
                       follow_redirects=False).status_code == 403  # no Origin, no Referer


def test_a_wallet_signs_the_siwe_message_the_server_prepared(client):
    wallet = Account.create()
    message = client.get("/auth/siwe/message", params={"address": wallet.address.lower()}).json()["message"]
    assert wallet.address in message and "Chain ID: 31337" in message  # checksummed, this chain
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.hex()
    login = client.post("/auth/siwe/login", json={"message": message, "signature": "0x" + signature.removeprefix("0x")})
    assert login.status_code == 200, login.text
    replay = client.post("/auth/siwe/login", json={"message": message, "signature": "0x" + signature.removeprefix("0x")})
    assert replay.status_code == 400  # the nonce was used
