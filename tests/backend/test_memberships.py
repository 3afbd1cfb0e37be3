"""Owners remove members and revoke invitations, in the API and the console: a removed organizer is refused (403) on
the organization's routes at once, a revoked invitation cannot be accepted (410), the last owner stays (409), and
nothing of it needs the chain, where members never hold a role (only the organization's issuer key does)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from backend.platform.models import OutboundTx
from tests.backend.conftest import Api, event_body, organizer_with_event, wait_for

SITE = "http://testserver"


def sent_transactions(client) -> int:
    with client.app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(OutboundTx))


def test_a_removed_organizer_is_refused_at_once_and_never_held_a_role_on_chain(client, suite):
    owner, org, event = organizer_with_event(client)
    org = owner.get(f"/organizations/{org['id']}").json()  # registered on chain by now, with its event
    invitation = owner.post(f"/organizations/{org['id']}/invitations", {"role": "organizer"}).json()
    helper = Api(client, verified=True)
    assert helper.post(f"/invitations/{invitation['token']}/accept").status_code == 200
    made = helper.post(f"/organizations/{org['id']}/events", event_body())
    assert made.status_code == 201
    assert helper.post(f"/events/{event['id']}/codes", {"count": 1}).status_code == 201
    wait_for(lambda: client.get(f"/events/{made.json()['id']}").json()["token_id"], what="helper's event on chain")

    members = owner.get(f"/organizations/{org['id']}/members")
    assert members.status_code == 200
    assert [(m["email"], m["role"]) for m in members.json()] == [(owner.email, "owner"), (helper.email, "organizer")]
    assert helper.get(f"/organizations/{org['id']}/members").status_code == 403  # owners only
    helper_id = helper.me()["id"]
    sent_before = sent_transactions(client)
    removed = owner.delete(f"/organizations/{org['id']}/members/{helper_id}")
    assert removed.status_code == 204, removed.text

    refusals = {
        "create an event": helper.post(f"/organizations/{org['id']}/events", event_body()),
        "print codes": helper.post(f"/events/{event['id']}/codes", {"count": 1}),
        "print a code sheet": helper.post(f"/events/{event['id']}/code-sheet", {"count": 1}),
        "show the kiosk code": helper.get(f"/events/{event['id']}/kiosk"),
        "edit the event": helper.client.patch(f"/events/{event['id']}", json={"title_en": "Taken over"},
                                              headers=helper.headers),
        "read the organization": helper.get(f"/organizations/{org['id']}"),
    }
    for what, response in refusals.items():
        assert response.status_code == 403, (what, response.text)
        assert response.json()["error"] == "not_an_organizer", what
    assert [o["id"] for o in helper.get("/me/organizations").json()] == []
    # members act only through the API: the issuer role on chain is the organization's key's, never a member's
    assert suite.badges.isIssuer(org["chain_id"], org["issuer_address"])
    assert not suite.badges.isIssuer(org["chain_id"], helper.me()["wallet_address"])
    assert not suite.badges.isIssuer(org["chain_id"], owner.me()["wallet_address"])
    time.sleep(1.5)  # a relayer tick or more
    assert sent_transactions(client) == sent_before  # the removal sent nothing
    again = owner.delete(f"/organizations/{org['id']}/members/{helper_id}")
    assert again.status_code == 404 and again.json()["error"] == "member_not_found"


def test_a_revoked_invitation_is_gone_and_the_last_owner_stays(client):
    owner, org, _ = organizer_with_event(client)
    revoked = owner.post(f"/organizations/{org['id']}/invitations", {"role": "organizer"}).json()
    kept = owner.post(f"/organizations/{org['id']}/invitations", {"role": "owner"}).json()
    waiting = owner.get(f"/organizations/{org['id']}/invitations").json()
    assert {(i["id"], i["role"]) for i in waiting} == {(revoked["id"], "organizer"), (kept["id"], "owner")}
    assert all("token" not in i for i in waiting)

    response = owner.delete(f"/organizations/{org['id']}/invitations/{revoked['id']}")
    assert response.status_code == 204, response.text
    assert [i["id"] for i in owner.get(f"/organizations/{org['id']}/invitations").json()] == [kept["id"]]
    invited = Api(client, verified=True)  # may join: only the revocation stops it
    gone = invited.post(f"/invitations/{revoked['token']}/accept")
    assert gone.status_code == 410 and gone.json()["error"] == "invitation_invalid"
    assert invited.post(f"/organizations/{org['id']}/events", event_body()).status_code == 403
    assert owner.delete(f"/organizations/{org['id']}/invitations/{'0' * 64}").status_code == 404
    assert owner.delete(f"/organizations/{org['id']}/invitations/not-an-id").status_code == 422

    last = owner.delete(f"/organizations/{org['id']}/members/{owner.me()['id']}")
    assert last.status_code == 409 and last.json()["error"] == "last_owner"
    co_owner = Api(client, verified=True)
    assert co_owner.post(f"/invitations/{kept['token']}/accept").status_code == 200
    assert owner.delete(f"/organizations/{org['id']}/members/{owner.me()['id']}").status_code == 204  # leaves
    assert owner.post(f"/organizations/{org['id']}/events", event_body()).status_code == 403
    assert co_owner.post(f"/organizations/{org['id']}/events", event_body()).status_code == 201


def test_the_console_lets_owners_remove_members_and_revoke_invitations(client):
    owner, org, _ = organizer_with_event(client)
    invitation = owner.post(f"/organizations/{org['id']}/invitations", {"role": "organizer"}).json()
    helper = Api(client, verified=True)
    helper.post(f"/invitations/{invitation['token']}/accept")
    waiting = owner.post(f"/organizations/{org['id']}/invitations", {"role": "organizer"}).json()
    helper_id = helper.me()["id"]

    page = client.get(f"{SITE}/console", headers={**owner.headers, "Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert f'data-action="/api/organizations/{org["id"]}/members/{helper_id}"' in html
    assert f'data-action="/api/organizations/{org["id"]}/invitations/{waiting["id"]}"' in html
    assert f'aria-label="Remove {helper.email}"' in html and "Revoke" in html
    assert f'/members/{owner.me()["id"]}"' not in html  # no button to remove oneself
    # an organizer sees no management
    assert "data-members=" not in client.get(f"{SITE}/console", headers=helper.headers).text
    ja = client.get(f"{SITE}/console", headers={**owner.headers, "Accept-Language": "ja"}).text
    assert "を外す" in ja and "取り消す" in ja

    # what the buttons send (the page's script: the API with the cookie session's header)
    assert owner.delete(f"/organizations/{org['id']}/invitations/{waiting['id']}").status_code == 204
    assert owner.delete(f"/organizations/{org['id']}/members/{helper_id}").status_code == 204
    html = client.get(f"{SITE}/console", headers={**owner.headers, "Accept-Language": "en"}).text
    assert f"/members/{helper_id}" not in html and waiting["id"] not in html
    assert "No invitation is waiting." in html
