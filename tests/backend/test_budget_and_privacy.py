"""Gas budgets set by the sponsor are enforced with a clear error; members can download and delete their data."""

from __future__ import annotations

from sqlalchemy import select

from backend.accounts.models import User
from backend.organizations.models import Organization
from backend.organizations.gas_budget import GAS_PER_CLAIM_ESTIMATE
from tests.backend.conftest import Api, codes, organizer_with_event, sponsor_of, wait_confirmed


def test_claims_beyond_the_gas_budget_are_refused_clearly(client):
    organizer, org, event = organizer_with_event(client)
    sponsor = sponsor_of(client)  # the operator made the city's account the sponsor's (`kyoso sponsor set`)
    assert organizer.client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": 1},
                                headers=organizer.headers).status_code == 403
    used = organizer.get(f"/organizations/{org['id']}").json()["gas_used"]
    response = client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": used + 100_000},
                          headers=sponsor.headers)
    assert response.status_code == 200
    first, second, third = codes(organizer, event["id"], 3)
    assert Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": first}).status_code == 202
    attendee = Api(client)
    for language, word in (("ja", "予算"), ("en", "budget")):
        refused = client.post(f"/events/{event['id']}/claims", json={"method": "code", "secret": second},
                              headers={**attendee.headers, "Accept-Language": language})
        assert refused.status_code == 402 and refused.json()["error"] == "gas_budget_exhausted"
        assert word in refused.json()["message"], (language, refused.json())
    client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": 10**9}, headers=sponsor.headers)
    # the refused code was not spent: it works once the budget allows
    assert Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": second}).status_code == 202


def test_queued_claims_hold_budget_until_confirmed_then_release_it(client):
    """The budget counts queued claims by their estimate (backend/organizations/gas_budget.py) and, once they are confirmed,
    by the gas they used: a reservation that stayed behind would refuse claims of an organization with budget left."""
    organizer, org, event = organizer_with_event(client)
    members = [Api(client) for _ in range(3)]
    accepted = [m.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()
                for m, code in zip(members, codes(organizer, event["id"], 3))]

    def reserved() -> int:
        with client.app.state.session_factory() as session:
            return session.get(Organization, org["id"]).gas_reserved

    assert reserved() in (GAS_PER_CLAIM_ESTIMATE * n for n in range(4))  # the relayer may have settled some already
    for member, claim in zip(members, accepted):
        assert wait_confirmed(member, claim["id"])["status"] == "confirmed"
    assert reserved() == 0
    assert organizer.get(f"/organizations/{org['id']}").json()["gas_used"] > 0


def test_member_downloads_everything_stored_about_them(client):
    organizer, _, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    member = Api(client)
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()
    wait_confirmed(member, claim["id"])
    data = member.get("/me/data").json()
    assert data["profile"]["email"] == member.email
    assert [c["id"] for c in data["claims"]] == [claim["id"]]
    assert "password" not in str(data).lower()


def test_deleting_an_account_removes_personal_data_but_not_the_badge(client, suite):
    organizer, _, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    member = Api(client)
    address = member.me()["wallet_address"]
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()
    wait_confirmed(member, claim["id"])
    assert member.client.request("DELETE", "/me", json={"password": "wrong-one"}, headers=member.headers
                                 ).status_code == 401
    assert member.client.request("DELETE", "/me", json={"password": member.password}, headers=member.headers
                                 ).status_code == 204
    assert member.get("/me").status_code == 401
    login = client.post("/auth/login", json={"email": member.email, "password": member.password})
    assert login.status_code == 401
    assert suite.badges.balanceOf(address, event["token_id"]) == 1  # the badge stays, pseudonymous
    with client.app.state.session_factory() as session:
        row = session.scalar(select(User).where(User.wallet_address == address))
        assert row.email is None and row.password_hash is None and row.display_name is None
        assert row.custodial_key is None
