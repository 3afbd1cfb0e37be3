"""Organizers act only for their own organization; co-organizers join by invitation."""

from __future__ import annotations

from tests.backend.conftest import Api, event_body, organizer_with_event


def test_organizer_of_a_cannot_create_codes_or_events_for_b(client):
    organizer_a, org_a, event_a = organizer_with_event(client)
    organizer_b, org_b, event_b = organizer_with_event(client)
    response = organizer_a.post(f"/organizations/{org_b['id']}/events", event_body())
    assert response.status_code == 403 and response.json()["error"] == "not_an_organizer"
    assert organizer_a.post(f"/events/{event_b['id']}/codes", {"count": 1}).status_code == 403
    assert organizer_a.post(f"/events/{event_b['id']}/code-sheet", {"count": 1}).status_code == 403
    assert organizer_a.get(f"/events/{event_b['id']}/kiosk").status_code == 403
    assert organizer_a.get(f"/organizations/{org_b['id']}").status_code == 403
    edit = organizer_a.client.patch(f"/events/{event_b['id']}", json={"title_en": "Hijacked"},
                                    headers=organizer_a.headers)
    assert edit.status_code == 403
    assert client.get(f"/events/{event_b['id']}").json()["title_en"] == event_b["title_en"]
    own = organizer_a.client.patch(f"/events/{event_a['id']}", json={"venue": "兼六園"}, headers=organizer_a.headers)
    assert own.status_code == 200 and own.json()["venue"] == "兼六園"
    assert organizer_a.post(f"/events/{event_a['id']}/codes", {"count": 1}).status_code == 201


def test_invited_co_organizer_can_create_events(client):
    owner, org, _ = organizer_with_event(client)
    invitation = owner.post(f"/organizations/{org['id']}/invitations", {"role": "organizer"}).json()
    helper = Api(client, verified=True)  # every role of an organization needs a confirmed address
    assert helper.post(f"/organizations/{org['id']}/events", event_body()).status_code == 403
    assert helper.post(f"/invitations/{invitation['token']}/accept").status_code == 200
    assert helper.post(f"/organizations/{org['id']}/events", event_body()).status_code == 201
    again = Api(client).post(f"/invitations/{invitation['token']}/accept")
    assert again.status_code == 410


def test_organization_is_registered_on_chain_with_its_issuer_key(client, suite):
    organizer, org, _ = organizer_with_event(client)
    org = organizer.get(f"/organizations/{org['id']}").json()
    assert org["registered"] and org["chain_id"] >= 1
    assert suite.badges.isIssuer(org["chain_id"], org["issuer_address"])


def test_code_sheet_is_a_png(client):
    organizer, _, event = organizer_with_event(client)
    response = organizer.post(f"/events/{event['id']}/code-sheet", {"count": 8})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_event_dates_out_of_range_are_a_clear_422(client):
    organizer, org, _ = organizer_with_event(client)
    response = organizer.post(f"/organizations/{org['id']}/events",
                              event_body(claim_start="1960-01-01T00:00:00+09:00"))
    assert response.status_code == 422 and "between the years 2000 and 2200" in response.json()["message"]


def test_badge_image_escapes_organizer_text(client):
    organizer, _, event = organizer_with_event(client)
    organizer.client.patch(f"/events/{event['id']}", json={"title_en": 'x" onload="alert(1)'},
                           headers=organizer.headers)
    image = client.get(f"http://testserver/metadata/{event['token_id']:064x}.svg")
    assert image.status_code == 200
    import xml.etree.ElementTree as ET

    root = ET.fromstring(image.text)
    assert "onload" not in root.attrib and root.attrib["aria-label"] == 'x" onload="alert(1)'
    assert image.headers["content-security-policy"].startswith("default-src 'none'")
