"""No custodial key, password, access token or claim secret appears in a response, a log line or the database."""

from __future__ import annotations

import logging

from backend.platform.keys import SealedKey
from backend.accounts.models import CustodialKey
from backend.organizations.models import Organization
from tests.backend.conftest import Api, codes, organizer_with_event, wait_confirmed


def test_secrets_never_appear_in_responses_logs_or_the_database(client, settings, caplog):
    caplog.set_level(logging.DEBUG)
    password = "kenrokuen-winter-2026"
    responses: list[str] = []
    organizer, org, event = organizer_with_event(client)
    secrets = codes(organizer, event["id"], 3)
    member = Api(client, password=password)
    responses.append(member.get("/me").text)
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secrets[0]})
    responses.append(claim.text)
    responses.append(wait_confirmed(member, claim.json()["id"]).__repr__())
    responses.append(member.get("/me/data").text)
    responses.append(member.get("/me/wallet").text)
    responses.append(organizer.get(f"/organizations/{org['id']}").text)
    responses.append(client.get("/openapi.json").text)

    vault = client.app.state.vault
    with client.app.state.session_factory() as session:
        custodial = session.get(CustodialKey, member.me()["id"])
        member_key = vault.open(SealedKey(custodial.address, custodial.sealed)).key.hex()
        org_row = session.get(Organization, org["id"])
        org_key = vault.open(SealedKey(org_row.issuer_address, org_row.issuer_key)).key.hex()
    client.app.state.session_factory.kw["bind"].dispose()
    database = b"".join(p.read_bytes() for p in settings_db_files(settings))
    logs = caplog.text

    forbidden = {
        "member's private key": member_key.removeprefix("0x"),
        "organization's private key": org_key.removeprefix("0x"),
        "password": password,
        "access token": member.token,
        "organizer's access token": organizer.token,
        **{f"claim code {i}": s for i, s in enumerate(secrets)},
    }
    for what, secret in forbidden.items():
        for where, text in (("a response", "\n".join(responses)), ("the logs", logs)):
            assert secret not in text, f"{what} appears in {where}"
        assert secret.encode() not in database, f"{what} appears in the database file"
        assert bytes.fromhex(secret) not in database if what.endswith("key") else True, f"{what} (raw bytes) in db"


def settings_db_files(settings):
    from pathlib import Path

    path = Path(settings.database_url.removeprefix("sqlite:///"))
    return [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
