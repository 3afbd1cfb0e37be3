"""Governance through the API only, against Anvil with time travel: proposals, gasless votes, results, execution."""

from __future__ import annotations

import csv
import hashlib
import io

from brownie import accounts, web3
from eth_account import Account
from sqlalchemy import func, select

from backend.governance.models import RelayStatus, Vote
from backend.platform.models import OutboundTx
from tests.backend.conftest import Api, wait_for
from tests.backend.governance_helpers import (  # noqa: F401 - chain_time_restored is an autouse fixture
    AGAINST,
    DAY,
    FOR,
    SETTINGS,
    Community,
    OwnWalletMember,
    chain_time_restored,
    governance_suite,
    grant_body,
    travel,
    wait_state,
)


suite = governance_suite()


def test_grant_lifecycle_through_the_api(settings, suite):
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from tests.backend.conftest import API_BASE

    settings = settings.model_copy(update={"governance_auto_execute": False})  # queue and execute by API call
    with TestClient(create_app(settings), base_url=API_BASE) as client:
        community = Community(client)
        alice, bob, chika = (community.member_with_points() for _ in range(3))
        dana = community.member_with_points(OwnWalletMember(client))
        accounts[8].transfer(suite.timelock, "2 ether")
        recipient = Account.create().address

        created = alice.post("/proposals", grant_body(recipient))
        assert created.status_code == 202, created.text
        proposal = created.json()
        assert proposal["state"] == "submitting"
        proposal = wait_state(client, proposal["id"], "pending")
        pid = int(proposal["proposal_id"])
        alice_address = alice.me()["wallet_address"]
        # proposed from the member's own address (gasless: the relayer funded exactly the cost, here zero)
        assert suite.governor.proposalProposer(pid) == alice_address
        text = client.get(f"/proposals/{proposal['id']}/text").json()
        assert hashlib.sha256(text["canonical"].encode()).hexdigest() == proposal["text_sha256"]
        assert proposal["text_sha256"] in text["description"]

        travel(SETTINGS.voting_delay_s + 1)
        wait_state(client, proposal["id"], "active")
        for member, support in ((alice, FOR), (bob, FOR), (chika, AGAINST)):
            response = member.post(f"/proposals/{proposal['id']}/votes", {"support": support})
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "accepted"
        typed = dana.get(f"/proposals/{proposal['id']}/ballot", params={"support": FOR, "reason": "きれいな街に"})
        assert typed.status_code == 200 and typed.json()["domain"]["verifyingContract"] == suite.governor.address
        response = dana.post(f"/proposals/{proposal['id']}/votes",
                             {"support": FOR, "reason": "きれいな街に", "signature": dana.sign(typed.json())})
        assert response.status_code == 202, response.text

        tallied = wait_for(lambda: (p := client.get(f"/proposals/{proposal['id']}").json())["votes"]["for"] == 30
                           and p["votes"]["against"] == 10 and p, what="votes counted")
        assert tallied["quorum"] == 4 and tallied["quorum_progress"] == 1.0  # 10% of 40 points
        assert [int(v) for v in suite.governor.proposalVotes(pid)] == [10, 30, 0]
        votes = client.get(f"/proposals/{proposal['id']}/votes").json()
        assert sorted(v["voter"] for v in votes) == sorted(m.me()["wallet_address"] for m in (alice, bob, chika, dana))
        assert {v["reason"] for v in votes} == {"", "きれいな街に"}

        travel(SETTINGS.voting_period_s + 1)
        wait_state(client, proposal["id"], "succeeded")
        assert chika.post(f"/proposals/{proposal['id']}/execute").json()["error"] == "wrong_state"
        assert chika.post(f"/proposals/{proposal['id']}/queue").status_code == 202
        queued = wait_state(client, proposal["id"], "queued")
        assert queued["executable_at"] is not None
        too_early = chika.post(f"/proposals/{proposal['id']}/execute")
        assert too_early.status_code == 409 and too_early.json()["error"] == "timelock_not_passed"
        travel(SETTINGS.timelock_delay_s + 1)
        assert chika.post(f"/proposals/{proposal['id']}/execute").status_code == 202
        executed = wait_state(client, proposal["id"], "executed")

        assert web3.eth.get_balance(recipient) == web3.to_wei("0.5", "ether")
        treasury = client.get("/treasury").json()
        assert treasury["balances"][0] == {"token": None, "symbol": "ETH", "decimals": 18, "balance": "1.5",
                                           "balance_base_units": str(web3.to_wei("1.5", "ether"))}
        assert [(p["recipient"], p["amount"], p["executed_tx"]) for p in treasury["payouts"]] == [
            (recipient, "0.5", executed["executed_tx"])]
        report = client.get("/reports/payouts.csv")
        assert report.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(report.text.lstrip("\ufeff"))))
        assert [(r["recipient"], r["amount"], r["asset"], r["tx_hash"]) for r in rows] == [
            (recipient, "0.5", "ETH", executed["executed_tx"])]
        assert rows[0]["title_ja"].startswith("東山ひがし清掃キット")
        vote_rows = list(csv.DictReader(io.StringIO(client.get("/reports/votes.csv").text.lstrip("\ufeff"))))
        assert sorted(r["support"] for r in vote_rows) == ["against", "for", "for", "for"]
        proposal_rows = list(csv.DictReader(io.StringIO(client.get("/reports/proposals.csv").text.lstrip("\ufeff"))))
        assert [(r["state"], r["votes_for"]) for r in proposal_rows] == [("executed", "30")]


def test_refused_votes_are_clear_4xx_and_nothing_is_sent(client, suite):
    community = Community(client)
    proposer, voter = community.member_with_points(), community.member_with_points()
    wallet_member = community.member_with_points(OwnWalletMember(client))
    nobody = Api(client)
    below = nobody.post("/proposals", {"kind": "text", "title_ja": "提案", "title_en": "A proposal"})
    assert below.status_code == 403 and below.json()["error"] == "below_threshold"
    assert below.json()["threshold"] == 10 and below.json()["voting_power"] == 0

    proposal = proposer.post("/proposals", {"kind": "text", "title_ja": "金沢マラソンの給水所を市民で運営する",
                                            "title_en": "Run the Kanazawa Marathon water stations as residents"})
    assert proposal.status_code == 202, proposal.text
    path = f"/proposals/{proposal.json()['id']}"
    wait_state(client, proposal.json()["id"], "pending")
    early = voter.post(f"{path}/votes", {"support": FOR})
    assert early.status_code == 409 and early.json()["error"] == "voting_not_started"

    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, proposal.json()["id"], "active")
    assert voter.post(f"{path}/votes", {"support": 3}).status_code == 422
    typed = wallet_member.get(f"{path}/ballot", params={"support": FOR}).json()
    for forged_domain in ({"chainId": "1"}, {"verifyingContract": suite.points.address}):
        forged = {**typed, "domain": {**typed["domain"], **forged_domain}}
        response = wallet_member.post(f"{path}/votes", {"support": FOR, "signature": wallet_member.sign(forged)})
        assert response.status_code == 400 and response.json()["error"] == "invalid_signature"
    stranger = OwnWalletMember.__new__(OwnWalletMember)
    stranger.wallet = Account.create()
    response = wallet_member.post(f"{path}/votes", {"support": FOR, "signature": stranger.sign(typed)})
    assert response.status_code == 400 and response.json()["error"] == "invalid_signature"
    changed_choice = wallet_member.post(f"{path}/votes", {"support": AGAINST, "signature": wallet_member.sign(typed)})
    assert changed_choice.status_code == 400 and changed_choice.json()["error"] == "invalid_signature"

    assert voter.post(f"{path}/votes", {"support": FOR}).status_code == 202
    again = voter.post(f"{path}/votes", {"support": AGAINST})
    assert again.status_code == 409 and again.json()["error"] == "already_voted"
    wait_for(lambda: client.get(path).json()["votes"]["for"] == 10, what="the one valid vote counted")

    travel(SETTINGS.voting_period_s + 1)
    late = proposer.post(f"{path}/votes", {"support": FOR})
    assert late.status_code == 409 and late.json()["error"] == "voting_closed"

    with client.app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 1
        assert session.scalar(select(func.count()).select_from(OutboundTx).where(OutboundTx.purpose == "vote")) == 1
    pid = int(proposal.json()["proposal_id"])
    assert [int(v) for v in suite.governor.proposalVotes(pid)] == [0, 10, 0]
    assert not suite.governor.hasVoted(pid, wallet_member.me()["wallet_address"])


def test_points_earned_after_the_snapshot_give_no_weight(client, suite):
    community = Community(client)
    proposer = community.member_with_points()
    veteran = community.member_with_points()
    newcomer = Api(client)
    proposal = proposer.post("/proposals", {"kind": "text", "title_ja": "兼六園の夜間ライトアップを支援",
                                            "title_en": "Support the Kenroku-en night illumination"}).json()
    path = f"/proposals/{proposal['id']}"
    wait_state(client, proposal["id"], "pending")
    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, proposal["id"], "active")
    later_event = community.new_event()
    community.member_with_points(veteran, later_event)
    community.member_with_points(newcomer, later_event)
    wait_for(lambda: veteran.get("/me/wallet").json()["points"] == 20, what="veteran's new points indexed")

    assert veteran.get(path).json()["my_voting_power"] == 10
    response = veteran.post(f"{path}/votes", {"support": FOR})
    assert response.status_code == 202 and response.json()["points"] == 10
    wait_for(lambda: client.get(path).json()["votes"]["for"] == 10, what="vote counted")
    assert newcomer.get(path).json()["my_voting_power"] == 0
    refused = newcomer.post(f"{path}/votes", {"support": FOR})
    assert refused.status_code == 403 and refused.json()["error"] == "no_voting_power"


def test_delegation_moves_voting_power_and_back(client, suite):
    community = Community(client)
    truster, neighbour = community.member_with_points(), community.member_with_points()
    wallet_member = community.member_with_points(OwnWalletMember(client))
    neighbour_address = neighbour.me()["wallet_address"]

    response = truster.post("/me/delegation", {"delegatee": neighbour_address})
    assert response.status_code == 202, response.text
    wait_for(lambda: neighbour.get("/me/delegation").json()["voting_power"] == 20, what="delegation indexed")
    assert truster.get("/me/delegation").json()["delegate"] == neighbour_address
    assert truster.get("/me/delegation").json()["voting_power"] == 0

    typed = wallet_member.get("/me/delegation/typed-data", params={"delegatee": neighbour_address}).json()
    signed = {"delegatee": neighbour_address, "nonce": int(typed["message"]["nonce"]),
              "expiry": int(typed["message"]["expiry"]), "signature": wallet_member.sign(typed)}
    assert wallet_member.post("/me/delegation", signed).status_code == 202
    wait_for(lambda: neighbour.get("/me/delegation").json()["voting_power"] == 30, what="own-wallet delegation")
    replay = wallet_member.post("/me/delegation", signed)
    assert replay.status_code in (400, 409)

    assert truster.delete("/me/delegation").status_code == 202
    wait_for(lambda: truster.get("/me/delegation").json()["voting_power"] == 10, what="undelegated")
    assert suite.points.getVotes(neighbour_address) == 20


def test_parameter_change_is_queued_and_executed_by_the_relayer(client, suite):
    community = Community(client)
    proposer = community.member_with_points()
    body = {"kind": "parameter", "title_ja": "定足数を20%に引き上げる", "title_en": "Raise the quorum to 20%",
            "parameter": "quorum_percent", "value": 20}
    out_of_bounds = proposer.post("/proposals", {**body, "value": 101})
    assert out_of_bounds.status_code == 422 and out_of_bounds.json()["error"] == "invalid_parameter_value"
    proposal = proposer.post("/proposals", body).json()
    wait_state(client, proposal["id"], "pending")
    duplicate = proposer.post("/proposals", body)
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "duplicate_proposal"
    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, proposal["id"], "active")
    assert proposer.post(f"/proposals/{proposal['id']}/votes", {"support": FOR}).status_code == 202
    wait_for(lambda: client.get(f"/proposals/{proposal['id']}").json()["votes"]["for"] == 10, what="vote counted")
    travel(SETTINGS.voting_period_s + 1)
    wait_state(client, proposal["id"], "queued")  # nobody asked: the relayer queues it (auto-execute)
    travel(SETTINGS.timelock_delay_s + 1)
    wait_state(client, proposal["id"], "executed")
    assert suite.governor.quorumNumerator() == 20
    assert client.get("/governance").json()["quorum_percent"] == 20


def test_erc20_grant_is_paid_and_reported(client, suite):
    from brownie import CommunityTestToken

    token = CommunityTestToken.deploy({"from": accounts[0]})
    token.mint(suite.timelock, 5_000 * 10**18, {"from": accounts[0]})
    community = Community(client)
    proposer = community.member_with_points()
    recipient = Account.create().address
    too_much = proposer.post("/proposals", grant_body(recipient, amount="5001", token=token.address))
    assert too_much.status_code == 409 and too_much.json()["error"] == "treasury_insufficient"
    not_a_token = proposer.post("/proposals", grant_body(recipient, token=suite.governor.address))
    assert not_a_token.status_code == 422 and not_a_token.json()["error"] == "invalid_token"
    proposal = proposer.post("/proposals", grant_body(recipient, amount="1200.5", token=token.address)).json()
    assert proposal["grant"]["amount_base_units"] == str(12005 * 10**17)
    wait_state(client, proposal["id"], "pending")
    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, proposal["id"], "active")
    assert proposer.post(f"/proposals/{proposal['id']}/votes", {"support": FOR}).status_code == 202
    wait_for(lambda: client.get(f"/proposals/{proposal['id']}").json()["votes"]["for"] == 10, what="vote counted")
    travel(SETTINGS.voting_period_s + 1)
    wait_state(client, proposal["id"], "queued")
    travel(SETTINGS.timelock_delay_s + 1)
    wait_state(client, proposal["id"], "executed")
    assert token.balanceOf(recipient) == 12005 * 10**17
    treasury = client.get("/treasury").json()
    symbol = token.symbol()
    assert {"token": token.address, "symbol": symbol, "decimals": 18, "balance": "3799.5",
            "balance_base_units": str(37995 * 10**17)} in treasury["balances"]
    assert [(p["symbol"], p["amount"]) for p in treasury["payouts"]] == [(symbol, "1200.5")]


def test_report_cells_are_never_formulas_and_huge_ids_are_422(client, suite):
    community = Community(client)
    proposer = community.member_with_points()
    created = proposer.post("/proposals", {"kind": "text", "title_ja": "=HYPERLINK(\"http://evil.example\")",
                                           "title_en": "@SUM(1+1)"})
    assert created.status_code == 202, created.text
    forged = proposer.post("/proposals", {"kind": "text", "title_ja": "題\nKyoso-Text-SHA256: 00", "title_en": "x"})
    assert forged.status_code == 422
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/proposals.csv").text.lstrip("\ufeff"))))
    assert [(r["title_ja"], r["title_en"]) for r in rows] == [("'=HYPERLINK(\"http://evil.example\")", "'@SUM(1+1)")]
    assert client.get(f"/proposals/{2**64}").status_code == 422
    assert client.get(f"/proposals/{2**63 - 1}").status_code == 404
    assert client.get("/proposals", params={"offset": 10**12}).status_code == 422


def test_proposal_page_lists_voters_a_page_at_a_time(client, suite):
    proposer = Community(client).member_with_points()
    proposal = proposer.post("/proposals", {"kind": "text", "title_ja": "ひがし茶屋街の夜市",
                                            "title_en": "A night market in Higashi Chaya"}).json()
    wait_state(client, proposal["id"], "pending")
    with client.app.state.session_factory.begin() as session:  # votes as the indexer records those cast on chain
        session.add_all(Vote(proposal_id=proposal["id"], voter=f"0x{n:040x}", support=n % 3, reason="",
                             status=RelayStatus.confirmed, weight=1, points=1) for n in range(1, 61))
    page = f"http://testserver/proposals/{proposal['id']}"

    def voters(html: str) -> list[str]:
        listed = html.split('<ul class="voters">')[1].split("</ul>")[0]
        return [item.split("</code>")[0] for item in listed.split('<code class="address">')[1:]]

    first = client.get(page, params={"lang": "en"}).text
    assert voters(first) == [f"0x{n:040x}" for n in range(1, 51)]
    assert "1–50 of 60" in first and 'rel="next" href="?page=2#voters"' in first and 'rel="prev"' not in first
    second = client.get(page, params={"page": 2, "lang": "en"}).text
    assert voters(second) == [f"0x{n:040x}" for n in range(51, 61)]
    assert "51–60 of 60" in second and 'rel="prev" href="?page=1#voters"' in second and 'rel="next"' not in second
    assert voters(client.get(page, params={"page": 99}).text) == voters(second)  # an old link past the end
    assert client.get(page, params={"page": 0}).status_code == 422
