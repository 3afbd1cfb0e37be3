"""A small community for governance tests: members with points, a funded treasury, and time travel on Anvil.

Every governance test runs inside a chain snapshot that is reverted afterwards, so the days it travels forward do
not leak into the claim windows (wall-clock based) of later tests.
"""

from __future__ import annotations

import pytest
from brownie import accounts, chain
from eth_account import Account
from eth_account.messages import encode_typed_data

from scripts.kyoso_suite import GovernanceSettings, deploy_suite
from tests.backend.conftest import (
    RELAYER_ADDRESS,
    Api,
    codes,
    event_body,
    organizer_with_event,
    wait_confirmed,
    wait_for,
)
from tests.backend.test_wallet_export import siwe_proof

DAY = 24 * 3600
SETTINGS = GovernanceSettings(voting_delay_s=600, voting_period_s=3 * DAY, proposal_threshold=10, quorum_percent=10,
                              timelock_delay_s=DAY)
AGAINST, FOR, ABSTAIN = 0, 1, 2


def governance_suite(counting: str = "simple"):
    """A module's `suite` fixture: the contracts with short governance periods (import it as `suite`)."""

    @pytest.fixture(scope="module")
    def suite():
        return deploy_suite(accounts[0], RELAYER_ADDRESS,
                            GovernanceSettings(**{**SETTINGS.__dict__, "counting": counting}))

    return suite


@pytest.fixture(autouse=True)
def chain_time_restored():
    """Autouse wherever imported: each test's time travel is undone (chain snapshot, reverted after the test)."""
    chain.snapshot()
    yield
    chain.revert()


class OwnWalletMember(Api):
    """A member who signed in with their own wallet (Sign-In with Ethereum) and signs ballots in it."""

    def __init__(self, client):  # noqa: D107 - no sign-up: SIWE log-in instead
        self.client = client
        self.wallet = Account.create()
        response = client.post("/auth/siwe/login", json=siwe_proof(client, self.wallet, purpose="login"))
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def sign(self, typed: dict) -> str:
        """What eth_signTypedData_v4 in a wallet returns for the typed data the API handed out."""
        return "0x" + Account.sign_message(encode_typed_data(full_message=typed), self.wallet.key).signature.hex()


class Community:
    """An organizer with one event worth 10 points, and a helper to give members its badge."""

    def __init__(self, client):
        self.client = client
        self.organizer, self.org, self.event = organizer_with_event(client)

    def new_event(self, **overrides) -> dict:
        """Another event of the same organization (claim window around the wall clock, as organizers set it)."""
        event = self.organizer.post(f"/organizations/{self.org['id']}/events", event_body(**overrides)).json()
        return wait_for(lambda: (e := self.client.get(f"/events/{event['id']}").json())["token_id"] and e,
                        what="event created on chain")

    def member_with_points(self, member: Api | None = None, event: dict | None = None) -> Api:
        member = member or Api(self.client)
        event = event or self.event
        (secret,) = codes(self.organizer, event["id"], 1)
        response = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})
        assert response.status_code == 202, response.text
        wait_confirmed(member, response.json()["id"])
        return member


def active_proposal(client, proposer: Api) -> dict:
    """A text proposal by `proposer`, on chain and open for voting."""
    proposal = proposer.post("/proposals", {"kind": "text", "title_ja": "金沢駅に市民の展示スペースを",
                                            "title_en": "A residents' exhibition space at Kanazawa Station"})
    assert proposal.status_code == 202, proposal.text
    wait_state(client, proposal.json()["id"], "pending")
    travel(SETTINGS.voting_delay_s + 1)
    return wait_state(client, proposal.json()["id"], "active")


def wait_state(client, proposal_id: int, state: str, timeout: float = 30.0) -> dict:
    return wait_for(lambda: (p := client.get(f"/proposals/{proposal_id}").json())["state"] == state and p,
                    timeout=timeout, what=f"proposal {proposal_id} {state}")


def travel(seconds: int) -> None:
    chain.sleep(seconds)
    chain.mine()


def grant_body(recipient: str, amount: str = "0.5", **overrides) -> dict:
    return {"kind": "grant", "title_ja": "東山ひがし清掃キットに助成 0.5 ETH",
            "title_en": "Fund the Higashi Chaya clean-up kit — 0.5 ETH",
            "body_ja": "ひがし茶屋街の月例清掃に使うトング・袋・ベストを購入します。",
            "body_en": "Tongs, bags and vests for the monthly clean-up in the Higashi Chaya district.",
            "recipient": recipient, "amount": amount, **overrides}
