"""An attendee signs up, claims with a printed code, and sees the badge confirmed on chain."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from brownie import web3
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from backend.events.kiosk import kiosk_code, kiosk_period
from backend.app import create_app
from backend.claims.models import Claim
from backend.events.models import Event
from backend.organizations.models import Organization
from backend.organizations.gas_budget import GAS_PER_CLAIM_ESTIMATE
from tests.backend.conftest import API_BASE, Api, codes, organizer_with_event, wait_confirmed, wait_for


def test_sign_up_claim_with_a_printed_code_and_see_it_confirmed(client, suite):
    organizer, org, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    attendee = Api(client)
    address = attendee.me()["wallet_address"]

    response = attendee.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    claim = wait_confirmed(attendee, response.json()["id"])
    assert claim["tx_hash"].startswith("0x") and claim["block_number"] > 0

    assert suite.badges.balanceOf(address, event["token_id"]) == 1
    assert suite.points.balanceOf(address) == 10 and suite.points.getVotes(address) == 10
    wallet = wait_for(lambda: (w := attendee.get("/me/wallet").json())["points"] and w, what="indexer")
    assert wallet["points"] == 10 and wallet["voting_power"] == 10
    assert [b["token_id"] for b in wallet["badges"]] == [event["token_id"]]  # once, indexed or just confirmed
    assert wallet["badges"][0]["tx_hash"] == claim["tx_hash"]


def test_a_just_confirmed_badge_is_in_the_gallery_before_the_indexer_sees_it(settings, suite):
    """The claim page says "confirmed" and links to the gallery: the badge must be there, even while the indexer is
    behind (here: not running at all)."""
    with TestClient(create_app(settings.model_copy(update={"indexer_enabled": False})), base_url=API_BASE) as client:
        organizer, _org, event = organizer_with_event(client)
        (code,) = codes(organizer, event["id"], 1)
        attendee = Api(client)
        claim = attendee.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()
        confirmed = wait_confirmed(attendee, claim["id"])
        wallet = attendee.get("/me/wallet").json()
    assert [(b["token_id"], b["tx_hash"]) for b in wallet["badges"]] == [(event["token_id"], confirmed["tx_hash"])]


def test_second_claim_of_the_same_event_is_409_and_sends_nothing(client, suite):
    organizer, org, event = organizer_with_event(client)
    first, second = codes(organizer, event["id"], 2)
    attendee = Api(client)
    claim = attendee.post(f"/events/{event['id']}/claims", {"method": "code", "secret": first}).json()
    wait_confirmed(attendee, claim["id"])
    nonce = web3.eth.get_transaction_count(org["issuer_address"])
    response = attendee.post(f"/events/{event['id']}/claims", {"method": "code", "secret": second})
    assert response.status_code == 409 and response.json()["error"] == "already_claimed"
    time.sleep(1.5)
    assert web3.eth.get_transaction_count(org["issuer_address"]) == nonce


def test_used_code_is_410(client):
    organizer, _, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    assert Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).status_code == 202
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert response.status_code == 410 and response.json()["error"] == "code_already_used"


def test_one_code_sent_from_many_phones_at_once_gives_one_badge(client):
    """A printed code photographed by several phones and sent at the same moment: one claim is stored, every other
    phone gets 410, and the refused claims keep no gas reservation (their writes may meet in one group commit,
    backend/platform/group_commit.py, where each is rolled back alone)."""
    organizer, org, event = organizer_with_event(client)
    (code,) = codes(organizer, event["id"], 1)
    phones = [Api(client) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        responses = list(pool.map(
            lambda phone: phone.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}), phones))
    assert sorted(r.status_code for r in responses) == [202] + [410] * 7, [r.text for r in responses]
    assert {r.json()["error"] for r in responses if r.status_code == 410} == {"code_already_used"}
    with client.app.state.session_factory() as session:
        assert len(session.scalars(select(Claim).where(Claim.event_id == event["id"])).all()) == 1
        reserved = session.get(Organization, org["id"]).gas_reserved
    assert reserved in (0, GAS_PER_CLAIM_ESTIMATE)  # the one claim's estimate, or none once it is confirmed


def test_ten_wrong_codes_give_429_with_retry_after(client):
    organizer, _, event = organizer_with_event(client)
    guesser = Api(client)
    statuses = [guesser.post(f"/events/{event['id']}/claims", {"method": "code", "secret": f"guess{i}"}).status_code
                for i in range(10)]
    assert statuses == [400] * 9 + [429]
    (code,) = codes(organizer, event["id"], 1)
    locked = guesser.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert locked.status_code == 429  # even a right code waits for the cooldown
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60


def test_wrong_codes_sent_in_parallel_are_all_counted(client):
    _, _, event = organizer_with_event(client)
    guesser = Api(client)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: guesser.post(f"/events/{event['id']}/claims",
                                                        {"method": "code", "secret": f"guess{i}"}).status_code,
                                 range(16)))
    assert statuses.count(400) <= 9 and statuses.count(429) >= 7  # at most nine wrong guesses get an answer


def test_people_behind_one_address_do_not_lock_each_other_out(client):
    """At a festival hundreds of phones share a carrier's or the venue's address: typing mistakes of many people
    must not lock out the next one, while one account is still locked after ten."""
    organizer, _, event = organizer_with_event(client)
    for i in range(12):  # twelve people, one typing mistake each, all from the test client's one address
        response = Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": f"typo{i}"})
        assert response.status_code == 400, response.text
    (code,) = codes(organizer, event["id"], 1)
    assert Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).status_code == 202


def test_expired_kiosk_code_is_410_and_the_current_one_works(client, settings):
    organizer, _, event = organizer_with_event(client)
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        seed = session.scalar(select(Event.kiosk_seed).where(Event.id == event["id"]))
    old = kiosk_code(seed, kiosk_period(time.time()) - 5)
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "kiosk", "secret": old})
    assert response.status_code == 410 and response.json()["error"] == "kiosk_code_expired"
    current = organizer.get(f"/events/{event['id']}/kiosk").json()
    assert current["claim_url"].endswith(f"#k={current['code']}")  # secret in the fragment: never logged
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "kiosk", "secret": current["code"]})
    assert response.status_code == 202


def test_secret_word_works_during_the_window(client):
    organizer, _, event = organizer_with_event(client, secret_word="Kenrokuen")
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "word", "secret": "kenrokuen"})
    assert response.status_code == 202
    wrong = Api(client).post(f"/events/{event['id']}/claims", {"method": "word", "secret": "gyokusen"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_code"


def test_claim_outside_the_window_is_403(client):
    later = datetime.now(timezone.utc) + timedelta(days=2)
    organizer, _, event = organizer_with_event(client, claim_start=later.isoformat(),
                                               claim_end=(later + timedelta(days=1)).isoformat())
    (code,) = codes(organizer, event["id"], 1)
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert response.status_code == 403 and response.json()["error"] == "claim_window_closed"


def test_claim_beyond_capacity_is_409(client):
    organizer, _, event = organizer_with_event(client, capacity=1)
    first, second = codes(organizer, event["id"], 2)
    assert Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": first}).status_code == 202
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "code", "secret": second})
    assert response.status_code == 409 and response.json()["error"] == "event_full"


def test_health_reports_relayer_balance_and_unconfirmed_transactions(client, suite):
    organizer_with_event(client)
    health = wait_for(lambda: (h := client.get("/health").json())["unconfirmed_transactions"] == 0 and h,
                      what="relayer idle")
    assert health["status"] == "ok" and health["chain_id"] == 31337
    assert health["relayer_address"] == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert health["relayer_balance_wei"] > 0
    assert health["oldest_unconfirmed_tx_age_s"] is None
    assert health["indexed_to_block"] >= suite.deployment.block


def test_kiosk_code_typed_in_full_width_digits_works(client):
    organizer, _, event = organizer_with_event(client)
    code = organizer.get(f"/events/{event['id']}/kiosk").json()["code"]
    full_width = code.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    response = Api(client).post(f"/events/{event['id']}/claims", {"method": "kiosk", "secret": full_width})
    assert response.status_code == 202


def test_a_claim_says_finalized_once_the_nodes_finalized_block_has_passed_it(client):
    organizer, _org, event = organizer_with_event(client)
    member = Api(client)
    (secret,) = codes(organizer, event["id"], 1)
    claim = wait_confirmed(member, member.post(f"/events/{event['id']}/claims",
                                               {"method": "code", "secret": secret}).json()["id"])
    assert claim["finalized"] is False  # Anvil finalizes a block once 64 more are on top of it
    web3.provider.make_request("anvil_mine", [70])
    wait_for(lambda: member.get(f"/claims/{claim['id']}").json()["finalized"], what="the claim finalized")
    assert member.get("/me/claims").json()[0]["finalized"] is True
