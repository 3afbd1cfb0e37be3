"""Perks across organizations and missions that award badges, against the real chain, relayer and indexer.

A member collects badges of two organizations; a third organization's perk that needs both becomes usable when the
second badge is on chain, is redeemed once at the counter, and refuses replays, expired passes, other organizations'
staff and uses beyond its limits. A mission completes when its last qualifying badge is confirmed and its badge is
issued once, across a restart of the backend.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.app import create_app
from backend.claims.models import BadgeHolding, Claim, ClaimMethod
from backend.missions import awards as mission_awards
from backend.perks import passes
from backend.platform.models import OutboundTx, TxStatus
from tests.backend.conftest import API_BASE, Api, codes, iso, organizer_with_event, wait_confirmed, wait_for


def period(**overrides) -> dict:
    now = datetime.now(timezone.utc)
    return {"valid_from": iso(now - timedelta(hours=1)), "valid_until": iso(now + timedelta(days=30)), **overrides}


def claim(organizer: Api, member: Api, event: dict) -> dict:
    (code,) = codes(organizer, event["id"], 1)
    response = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert response.status_code == 202, response.text
    return response.json()


def badge_count(member: Api) -> int:
    """The member's badges as the indexer has them (what eligibility is evaluated on; the gallery also shows a badge
    the relayer has just seen confirmed)."""
    address = member.me()["wallet_address"]
    with member.client.app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(BadgeHolding).where(BadgeHolding.holder == address))


def perk_progress(member: Api, perk_id: int) -> dict:
    return next(s for s in member.get("/me/perks").json() if s["perk"]["id"] == perk_id)["progress"]


def test_perk_of_a_third_organization_opens_with_the_second_badge_and_is_redeemed_once(client, monkeypatch):
    festival_org, _, festival = organizer_with_event(client, category="festival")
    workshop_org, _, workshop = organizer_with_event(client, category="workshop")
    shop = Api(client, verified=True)
    shop_org = shop.post("/organizations", {"name_ja": "金箔工房", "name_en": "Gold leaf studio"}).json()
    member = Api(client)

    response = shop.post(f"/organizations/{shop_org['id']}/perks", {
        "title_ja": "全商品10%オフ", "title_en": "10% off everything", **period(), "limit_per_member": 1,
        "rule": {"kind": "all_events", "event_ids": [festival["id"], workshop["id"]]}})
    assert response.status_code == 201, response.text
    perk = response.json()
    bad_rule = shop.post(f"/organizations/{shop_org['id']}/perks", {
        "title_ja": "x", "title_en": "x", **period(), "rule": {"kind": "any_events", "event_ids": [999999]}})
    assert bad_rule.status_code == 422 and bad_rule.json()["error"] == "unknown_events"
    not_staff = member.post(f"/organizations/{shop_org['id']}/perks", {
        "title_ja": "x", "title_en": "x", **period(), "rule": {"kind": "category", "category": "festival"}})
    assert not_staff.status_code == 403

    wait_confirmed(member, claim(festival_org, member, festival)["id"])
    wait_for(lambda: badge_count(member) == 1, what="first badge indexed")
    assert perk_progress(member, perk["id"]) == {"eligible": False, "badges": 1, "badges_needed": 2,
                                                 "organizations": 1, "organizations_needed": 1}
    for language, text in (("en", "badges do not qualify"), ("ja", "対象となるバッジをお持ちではありません")):
        refused = member.client.post(f"/perks/{perk['id']}/passes",
                                     headers={**member.headers, "Accept-Language": language})
        assert refused.status_code == 403 and refused.json()["error"] == "not_eligible"
        assert text in refused.json()["message"], (language, refused.json())

    second = claim(workshop_org, member, workshop)
    # (claim status, perk eligible, badge on chain) until the perk opens: never open before the badge is on chain.
    # The perk follows the indexer, which may see the badge's block a moment before the relayer records its
    # settlement (and, on a public chain, before the confirmation depth): eligible with the claim still `submitted`.
    badges, wallet = client.app.state.services.contracts.badges, member.me()["wallet_address"]
    seen = []
    deadline = time.monotonic() + 30
    while not (seen and seen[-1][1]):
        assert time.monotonic() < deadline, seen
        status = member.get(f"/claims/{second['id']}").json()["status"]
        eligible = perk_progress(member, perk["id"])["eligible"]
        seen.append((status, eligible, badges.functions.balanceOf(wallet, workshop["token_id"]).call() == 1))
        time.sleep(0.1)
    assert all(on_chain and status in ("submitted", "confirmed") for status, eligible, on_chain in seen
               if eligible), seen
    assert seen[0] == ("accepted", False, False)

    first_pass, second_pass = (member.post(f"/perks/{perk['id']}/passes").json() for _ in range(2))
    assert 55 <= first_pass["valid_for_s"] <= 60
    assert first_pass["redeem_url"] == f"http://testserver/console/redeem#p={first_pass['token']}"
    assert first_pass["short_code"] != second_pass["short_code"]

    other_staff = festival_org.post("/redemptions", {"token": first_pass["token"]})
    assert other_staff.status_code == 403 and other_staff.json()["error"] == "not_offering_organization"
    forged = first_pass["token"][:-2] + ("AA" if not first_pass["token"].endswith("AA") else "BB")
    assert shop.post("/redemptions", {"token": forged}).json()["error"] == "invalid_code"

    redeemed = shop.post("/redemptions", {"token": first_pass["token"]})
    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.json()["title_en"] == "10% off everything" and redeemed.json()["remaining"] == 0
    replay = shop.post("/redemptions", {"token": first_pass["token"]})
    assert replay.status_code == 409 and replay.json()["error"] == "already_redeemed"
    typed = second_pass["short_code"].lower().replace("-", " ")  # typed at the counter
    beyond = shop.post("/redemptions", {"short_code": typed})
    assert beyond.status_code == 409 and beyond.json()["error"] == "perk_limit_reached"
    assert member.post(f"/perks/{perk['id']}/passes").json()["error"] == "perk_limit_reached"
    assert shop.post("/redemptions", {"short_code": "ZZZZ-ZZZZ"}).json()["error"] == "invalid_code"

    # an expired pass: the same path with a 1-second lifetime instead of waiting a minute
    one_off = shop.post(f"/organizations/{shop_org['id']}/perks", {
        "title_ja": "入館無料", "title_en": "Free entry", **period(),
        "rule": {"kind": "any_events", "event_ids": [festival["id"], workshop["id"]], "min_organizations": 2}}).json()
    monkeypatch.setattr(passes, "PASS_TTL_S", 1)
    stale = member.post(f"/perks/{one_off['id']}/passes").json()
    time.sleep(2.1)
    expired = shop.post("/redemptions", {"short_code": stale["short_code"]})
    assert expired.status_code == 410 and expired.json()["error"] == "pass_expired"

    csv = shop.get(f"/organizations/{shop_org['id']}/reports/redemptions.csv")
    assert csv.status_code == 200 and csv.text.count("10% off everything") == 1
    assert festival_org.get(f"/organizations/{shop_org['id']}/reports/redemptions.csv").status_code == 403


def test_a_total_limit_holds_when_two_counters_redeem_at_the_same_moment(client):
    organizer, org, event = organizer_with_event(client)
    member = Api(client)
    wait_confirmed(member, claim(organizer, member, event)["id"])
    wait_for(lambda: badge_count(member) == 1, what="badge indexed")
    perk = organizer.post(f"/organizations/{org['id']}/perks", {
        "title_ja": "先着1名", "title_en": "First comer only", **period(), "limit_total": 1,
        "rule": {"kind": "category", "category": "volunteering"}}).json()
    tokens = [member.post(f"/perks/{perk['id']}/passes").json()["token"] for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda token: organizer.post("/redemptions", {"token": token}), tokens))
    codes_seen = sorted(r.status_code for r in responses)
    assert codes_seen == [201, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["error"] for r in responses if r.status_code == 409} <= {"perk_sold_out", "perk_limit_reached"}


def test_mission_badge_is_given_once_when_the_last_badge_is_confirmed_across_a_restart(settings, suite):
    with TestClient(create_app(settings), base_url=API_BASE) as client:
        engine_sessions = client.app.state.session_factory
        crafts_a, org_a, event_a = organizer_with_event(client, category="crafts")
        crafts_b, _, event_b = organizer_with_event(client, category="crafts")
        member = Api(client)
        wait_confirmed(member, claim(crafts_a, member, event_a)["id"])
        wait_for(lambda: badge_count(member) == 1, what="first badge indexed")
        mission = crafts_a.post(f"/organizations/{org_a['id']}/missions", {
            "title_ja": "金沢工芸探検家", "title_en": "Kanazawa craft explorer", **period(), "points": 5,
            "rule": {"kind": "category", "category": "crafts", "min_badges": 2, "min_organizations": 2}}).json()
        # a mission that the member's first badge already satisfies: found by the sweep of new missions
        early = crafts_a.post(f"/organizations/{org_a['id']}/missions", {
            "title_ja": "はじめの一歩", "title_en": "First step", **period(),
            "rule": {"kind": "any_events", "event_ids": [event_a["id"]]}}).json()
        wait_for(lambda: all(client.get(f"/events/{m['event_id']}").json()["token_id"] for m in (mission, early)),
                 what="mission badges on chain")
        assert [e["id"] for e in client.get("/events").json()].count(mission["event_id"]) == 0
        status = next(s for s in member.get("/me/missions").json() if s["mission"]["id"] == mission["id"])
        assert status["status"] == "open" and status["progress"]["badges"] == 1

        claim(crafts_b, member, event_b)

        def mission_claims():
            with engine_sessions() as session:
                return session.scalars(select(Claim).where(Claim.event_id == mission["event_id"])).all()

        (completion,) = wait_for(mission_claims, what="mission completed")
        state_at_restart = completion.status.value
    # the backend stops between completion and issuance (or just after), and starts again on the same database

    with TestClient(create_app(settings), base_url=API_BASE) as client:
        member.client = crafts_a.client = client
        statuses = wait_for(lambda: (s := {m["mission"]["id"]: m["status"] for m in member.get("/me/missions").json()})
                            and s.get(mission["id"]) == "badge_given" and s.get(early["id"]) == "badge_given" and s,
                            what="mission badges given")
        address = member.me()["wallet_address"]
        assert suite.badges.balanceOf(address, mission["token_id"] or client.get(
            f"/events/{mission['event_id']}").json()["token_id"]) == 1
        assert suite.points.balanceOf(address) == 10 + 10 + 5 + 0  # two events, the mission's 5, the early one's 0
        with client.app.state.session_factory() as session:
            claims = session.scalars(select(Claim).where(Claim.event_id == mission["event_id"])).all()
            assert [(c.method, c.status.value) for c in claims] == [(ClaimMethod.mission, "confirmed")]
            issued = session.scalar(select(func.count()).select_from(OutboundTx).where(
                OutboundTx.purpose == "issue", OutboundTx.subject_id == mission["event_id"],
                OutboundTx.status == TxStatus.mined))
            assert issued == 1
            # evaluating the member again (as a re-processed block would) records nothing new
            assert mission_awards.award(session, [address], datetime.now(timezone.utc)) == 0
        csv = crafts_a.get(f"/organizations/{org_a['id']}/reports/missions.csv")
        assert csv.text.count("Kanazawa craft explorer") == 1 and csv.text.count("First step") == 1
    print(f"mission claim was {state_at_restart} when the backend stopped; statuses after restart: {statuses}")
