"""Every transaction the sponsor pays for is budgeted, and the sponsor's spend report is what the chain says, against
Anvil: the report's gas and fees equal the receipts of every transaction of the backend's keys in the test (with a
priority fee, so that fees are not zero on a chain whose base fee is 0); a spent organization budget refuses new
events, missions, code sheets and claims before anything is queued, and a mission done meanwhile is owed, then
issued; a proposal flood stops at the governance budget while votes still count; the creation rate limits answer 429
with Retry-After."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta, timezone

import pytest
from brownie import chain, web3
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.app import create_app
from backend.claims.models import Claim
from backend.events.models import ClaimCode, Event
from backend.governance import budget as governance_budget
from backend.missions.models import Mission
from backend.organizations import gas_budget
from backend.organizations.models import Organization
from backend.platform.models import OutboundTx, TxStatus
from backend.platform.rate_limits import EVENTS_PER_ORGANIZATION, ORGANIZATIONS_PER_ACCOUNT
from tests.backend.conftest import (
    API_BASE,
    RELAYER_ADDRESS,
    Api,
    codes,
    event_body,
    iso,
    organizer_with_event,
    sponsor_of,
    wait_confirmed,
    wait_for,
)
from tests.backend.governance_helpers import (  # noqa: F401 - chain_time_restored is an autouse fixture
    FOR,
    SETTINGS,
    Community,
    active_proposal,
    chain_time_restored,
    governance_suite,
    travel,
    wait_state,
)

suite = governance_suite()

SPONSOR = "dx@city.kanazawa.example"
TIP = 10**9  # 1 gwei per gas: Anvil's base fee is 0 here, so without a tip every fee would be 0 wei


@pytest.fixture
def sponsor_client(settings):
    settings = settings.model_copy(update={"priority_fee_wei": TIP})
    with TestClient(create_app(settings), base_url=API_BASE) as client:
        yield client


def settled(client) -> None:
    """Waits until the relayer has nothing signed or sent that is not settled."""
    def idle():
        with client.app.state.session_factory() as session:
            return session.scalar(select(func.count()).select_from(OutboundTx).where(
                OutboundTx.status.in_((TxStatus.signed, TxStatus.broadcast)))) == 0
    wait_for(idle, timeout=60, what="every transaction settled")


def mission_body(**rule) -> dict:
    now = datetime.now(timezone.utc)
    return {"title_ja": "清掃の達人", "title_en": "Clean-up master", "points": 5,
            "valid_from": iso(now - timedelta(hours=1)), "valid_until": iso(now + timedelta(days=30)),
            "rule": rule or {"kind": "category", "category": "volunteering", "min_badges": 1}}


# ---------------------------------------------------------------------------------------------------- the report


def test_the_spend_report_is_what_the_receipts_of_the_backends_keys_add_up_to(sponsor_client, suite):
    client = sponsor_client
    sponsor = sponsor_of(client, SPONSOR)
    start = web3.eth.block_number + 1
    # an organization registered, its key granted and topped up, an event, badges; a member's proposal (their key
    # topped up), a vote, a delegation
    community = Community(client)
    alice, bob = community.member_with_points(), community.member_with_points()
    proposal = active_proposal(client, alice)
    assert bob.post(f"/proposals/{proposal['id']}/votes", {"support": FOR}).status_code == 202
    wait_for(lambda: (p := bob.get(f"/proposals/{proposal['id']}").json())["my_vote"]
             and p["my_vote"]["status"] == "confirmed", what="vote confirmed")
    alice_address = alice.me()["wallet_address"]
    assert bob.post("/me/delegation", {"delegatee": alice_address}).status_code == 202
    wait_for(lambda: bob.get("/me/delegation").json()["delegate"] == alice_address, what="delegation on chain")
    settled(client)
    end = web3.eth.block_number

    org = community.org
    members = {m.me()["wallet_address"] for m in (alice, bob)}
    keys = {RELAYER_ADDRESS, org["issuer_address"], *members}
    badges, governor, points = suite.badges.address, suite.governor.address, suite.points.address
    registrar_calls = {"0x" + bytes(web3.keccak(text=s))[:4].hex()
                       for s in ("createOrganization(address)", "grantRole(bytes32,address)")}
    chain_total, chain_org, chain_governance, prices = [0, 0, 0], [0, 0], [0, 0], set()
    for number in range(start, end + 1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] not in keys:
                continue
            receipt = web3.eth.get_transaction_receipt(tx["hash"])
            gas, fee = receipt["gasUsed"], receipt["gasUsed"] * receipt["effectiveGasPrice"]
            prices.add(receipt["effectiveGasPrice"])
            chain_total[0] += 1
            chain_total[1] += gas
            chain_total[2] += fee
            data = tx["input"].hex() if isinstance(tx["input"], bytes) else tx["input"]
            data = data if data.startswith("0x") else "0x" + data
            for_org = (tx["from"] == org["issuer_address"] or tx["to"] == org["issuer_address"]
                       or (tx["to"] == badges and data[:10] in registrar_calls))
            for_governance = tx["from"] in members or tx["to"] in (governor, points, *members)
            assert for_org != for_governance, tx  # every transaction of the test is one or the other
            bucket = chain_org if for_org else chain_governance
            bucket[0] += gas
            bucket[1] += fee

    report = sponsor.get("/sponsor/spend").json()
    print("chain:", chain_total, "organization:", chain_org, "governance:", chain_governance)
    print("report:", {k: report[k] for k in ("transactions", "gas_used", "fee_paid_wei", "fees_unknown")})
    print("rows:", [(r["organization_id"], r["purpose"], r["transactions"], r["gas_used"], r["fee_paid_wei"])
                    for r in report["rows"]])
    assert prices == {TIP} and chain_total[2] > 0  # fees really paid: base fee 0 + the tip
    assert (report["transactions"], report["gas_used"], int(report["fee_paid_wei"])) == tuple(chain_total)
    assert report["fees_unknown"] == 0
    purposes = {r["purpose"] for r in report["rows"]}
    assert purposes >= {"register_organization", "grant_issuer", "fund", "create_event", "issue", "fund_member",
                        "propose", "vote", "delegate"}
    # charged to the organization: its registration, grant and top-ups too, sent by the relayer's key
    rows = report["rows"]
    org_rows = [r for r in rows if r["organization_id"] == org["id"]]
    assert {r["purpose"] for r in org_rows} == {"register_organization", "grant_issuer", "fund", "create_event",
                                                "issue"}
    assert [sum(r["gas_used"] for r in org_rows), sum(int(r["fee_paid_wei"]) for r in org_rows)] == chain_org
    (budget,) = [b for b in report["organizations"] if b["organization_id"] == org["id"]]
    assert budget["gas_used"] == chain_org[0] and int(budget["fee_paid_wei"]) == chain_org[1]
    # and the rest to the community's governance budget
    gov_rows = [r for r in rows if r["organization_id"] is None]
    assert [sum(r["gas_used"] for r in gov_rows), sum(int(r["fee_paid_wei"]) for r in gov_rows)] == chain_governance
    assert report["governance"]["gas_used"] == chain_governance[0]
    assert int(report["governance_fee_paid_wei"]) == chain_governance[1]

    download = sponsor.get("/sponsor/spend.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert sum(int(r["gas_used"]) for r in table) == chain_total[1]
    assert sum(int(r["fee_paid_wei"]) for r in table) == chain_total[2]

    # the sponsor's page, in both languages; nobody else sees the report
    for lang, title in (("ja", "スポンサーのガス代支出"), ("en", "Sponsor&#39;s gas spend")):
        page = client.get(f"http://testserver/console/spend?lang={lang}", headers=sponsor.headers)
        assert page.status_code == 200 and title in page.text
        assert f'data-testid="total-gas">{chain_total[1]:,}<' in page.text
    assert alice.get("/sponsor/spend").status_code == 403
    assert alice.get("/sponsor/spend.csv").status_code == 403
    assert client.get("http://testserver/console/spend", headers=alice.headers).status_code == 403


# ---------------------------------------------------------------------------------------------------- org budget


def test_a_spent_organization_budget_refuses_what_is_new_before_anything_is_queued(sponsor_client, suite):
    client = sponsor_client
    sponsor = sponsor_of(client, SPONSOR)
    organizer, org, event = organizer_with_event(client, category="volunteering")
    (code,) = codes(organizer, event["id"], 1)
    settled(client)
    sessions = client.app.state.session_factory

    def counts():
        with sessions() as session:
            return [session.scalar(select(func.count()).select_from(model)) for model in
                    (Event, Mission, ClaimCode, Claim, OutboundTx)]

    with sessions() as session:
        row = session.get(Organization, org["id"])
        spent = row.gas_used + row.gas_reserved
    assert sponsor.client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": spent},
                              headers=sponsor.headers).status_code == 200
    before = counts()
    member = Api(client)
    refusals = {
        "event": organizer.post(f"/organizations/{org['id']}/events", event_body()),
        "mission": organizer.post(f"/organizations/{org['id']}/missions", mission_body()),
        "code sheet": organizer.post(f"/events/{event['id']}/code-sheet", {"count": 2}),
        "codes": organizer.post(f"/events/{event['id']}/codes", {"count": 2}),
        "claim": member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}),
    }
    for what, response in refusals.items():
        assert response.status_code == 402, (what, response.text)
        body = response.json()
        assert body["error"] == "gas_budget_exhausted" and body["organization"] == org["name_en"], (what, body)
        assert org["name_en"] in body["message"]
    time.sleep(1.5)  # a few of the relayer's rounds: nothing new goes out either
    assert counts() == before
    # the sponsor raises the budget: the same code (not spent by the refusal) is claimed
    client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": spent + 10**7}, headers=sponsor.headers)
    claimed = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert claimed.status_code == 202, claimed.text
    wait_confirmed(member, claimed.json()["id"])


def test_a_mission_done_when_the_budget_is_spent_is_owed_then_issued(sponsor_client, suite):
    client = sponsor_client
    sponsor = sponsor_of(client, SPONSOR)
    organizer, org, event = organizer_with_event(client, category="volunteering")
    mission = organizer.post(f"/organizations/{org['id']}/missions", mission_body()).json()
    wait_for(lambda: client.get(f"/events/{mission['event_id']}").json()["token_id"], what="mission badge on chain")
    (code,) = codes(organizer, event["id"], 1)
    settled(client)
    with client.app.state.session_factory() as session:
        row = session.get(Organization, org["id"])
        spent = row.gas_used + row.gas_reserved
    # room for the member's claim; its real gas (more than the estimate) leaves none for the mission's badge
    client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": spent + gas_budget.GAS_PER_CLAIM_ESTIMATE},
               headers=sponsor.headers)
    member = Api(client)
    claimed = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code})
    assert claimed.status_code == 202, claimed.text
    wait_confirmed(member, claimed.json()["id"])

    def mission_status():
        return next(s["status"] for s in member.get("/me/missions").json() if s["mission"]["id"] == mission["id"])

    assert wait_for(lambda: mission_status() == "owed" and "owed", what="mission badge owed") == "owed"
    page = client.get("http://testserver/me?lang=en", headers=member.headers)
    assert "your badge is owed" in page.text
    time.sleep(1.0)
    assert mission_status() == "owed"  # kept, not failed and not sent
    client.put(f"/organizations/{org['id']}/gas-budget", json={"gas_budget": spent + 10**7}, headers=sponsor.headers)
    chain.mine()  # the indexer pays what is owed after its next step, i.e. the next block
    assert wait_for(lambda: mission_status() == "badge_given" and "given", timeout=30,
                    what="owed mission badge issued") == "given"


# ---------------------------------------------------------------------------------------------------- governance


def test_a_proposal_flood_stops_at_the_governance_budget_and_votes_still_count(sponsor_client, suite):
    client = sponsor_client
    sponsor = sponsor_of(client, SPONSOR)
    community = Community(client)
    members = [community.member_with_points() for _ in range(4)]
    state = sponsor.get("/sponsor/governance-budget").json()
    estimate = governance_budget.PROPOSAL_GAS_ESTIMATE
    # the proposals' share (four fifths) of the budget leaves room for two and a half proposals' estimates
    budget = -(-(state["gas_used"] + estimate * 5 // 2) * 5 // 4)
    assert members[0].client.put("/sponsor/governance-budget", json={"gas_budget": budget},
                                 headers=members[0].headers).status_code == 403
    state = client.put("/sponsor/governance-budget", json={"gas_budget": budget}, headers=sponsor.headers).json()
    assert state["gas_budget"] == budget
    answers = [m.post("/proposals", {"kind": "text", "title_ja": f"提案 {n}", "title_en": f"Proposal {n}"})
               for n, m in enumerate(members)]
    assert [a.status_code for a in answers] == [202, 202, 402, 402], [a.text for a in answers]
    refused = answers[2].json()
    assert refused["error"] == "governance_budget_exhausted" and "予算" in refused["message"]
    with client.app.state.session_factory() as session:  # nothing of the refused ones is stored or sent
        assert session.scalar(select(func.count()).select_from(OutboundTx).where(
            OutboundTx.purpose == "propose")) <= 2
    first = wait_state(client, answers[0].json()["id"], "pending")
    wait_state(client, answers[1].json()["id"], "pending")
    # settled: what the two proposals used is charged, and they hold their queue and execute until they close
    again = members[2].post("/proposals", {"kind": "text", "title_ja": "もう一度", "title_en": "Once more"})
    assert again.status_code == 402
    delegated = members[3].post("/me/delegation", {"delegatee": members[2].me()["wallet_address"]})
    assert delegated.status_code == 402 and delegated.json()["error"] == "governance_budget_exhausted"
    # a member's vote is never refused for the budget
    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, first["id"], "active")
    used_before = sponsor.get("/sponsor/governance-budget").json()["gas_used"]
    for voter in members[2:]:
        assert voter.post(f"/proposals/{first['id']}/votes", {"support": FOR}).status_code == 202
    wait_for(lambda: client.get(f"/proposals/{first['id']}").json()["votes"]["for"] == 20, what="votes counted")
    settled(client)
    assert sponsor.get("/sponsor/governance-budget").json()["gas_used"] > used_before  # charged all the same


# ---------------------------------------------------------------------------------------------------- rate limits


def test_the_creation_rate_limits_answer_429_with_retry_after(client):
    founder, other = Api(client, verified=True), Api(client, verified=True)
    made = [founder.post("/organizations", {"name_ja": f"団体{n}", "name_en": f"Org {n}"})
            for n in range(ORGANIZATIONS_PER_ACCOUNT.count + 1)]
    assert [m.status_code for m in made] == [201] * ORGANIZATIONS_PER_ACCOUNT.count + [429]
    refused = made[-1]
    assert refused.json()["error"] == "rate_limit_organizations_per_account"
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert other.post("/organizations", {"name_ja": "他", "name_en": "Other"}).status_code == 201

    # events of one organization (pending: drafts cost no gas yet, the limit counts them all the same)
    org = made[0].json()
    events = [founder.post(f"/organizations/{org['id']}/events", event_body())
              for _ in range(EVENTS_PER_ORGANIZATION.count + 1)]
    assert [e.status_code for e in events] == [201] * EVENTS_PER_ORGANIZATION.count + [429]
    refused = events[-1]
    assert refused.json()["error"] == "rate_limit_events_per_organization"
    assert refused.json()["organization"] == org["name_en"] and 0 < int(refused.headers["Retry-After"]) <= 3600
    for lang, word in (("ja", "1時間"), ("en", "an hour")):
        again = client.post(f"/organizations/{org['id']}/events", json=event_body(),
                            headers={**founder.headers, "Accept-Language": lang})
        assert again.status_code == 429 and word in again.json()["message"]
    other_org = other.get("/me/organizations").json()[0]
    assert other.post(f"/organizations/{other_org['id']}/events", event_body()).status_code == 201
