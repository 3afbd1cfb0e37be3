"""What the chain costs, as on a public network (issue #19). A relayer running dry: the relayer's key pays every fee
and tops up the organizations' keys; when its balance covers less than an hour of what the backend spent in the last
hour, /api/health is degraded and says whom to fund; claims are still accepted, and go out once the key is funded.
A fee spike: while the base fee passes the most the sponsor pays per gas, nothing new is sent, claims are still
accepted, health says why; once it falls, the queue drains, nothing lost, every budget charged what was paid."""

from __future__ import annotations

import time

import pytest
from brownie import web3
from sqlalchemy import select

from backend.organizations.models import Organization
from backend.platform.models import OutboundTx

from tests.backend.conftest import RELAYER_ADDRESS, Api, codes, members_with_badge, organizer_with_event, wait_confirmed

GWEI = 10**9


FEE_CAP = 10 * GWEI


@pytest.fixture
def settings(settings):
    # Anvil's base fee is 0: a tip makes every transaction cost something, as on a public chain
    return settings.model_copy(update={"priority_fee_wei": GWEI, "max_fee_per_gas_wei": FEE_CAP})


def set_balance(address: str, wei: int) -> None:
    web3.provider.make_request("anvil_setBalance", [address, hex(wei)])


@pytest.fixture
def relayer_balance_restored():
    before = web3.eth.get_balance(RELAYER_ADDRESS)
    yield
    set_balance(RELAYER_ADDRESS, before)


def test_a_relayer_running_dry_degrades_health_and_claims_wait_until_it_is_funded(client, relayer_balance_restored):
    organizer, org, event = organizer_with_event(client)
    members_with_badge(client, organizer, event, 2)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["spent_last_hour_wei"] > 0, health
    spent = health["spent_last_hour_wei"]

    set_balance(RELAYER_ADDRESS, spent // 2)
    set_balance(org["issuer_address"], 0)  # its next claim needs a top-up from the relayer
    answer = client.get("/health")
    assert answer.status_code == 503 and answer.json()["status"] == "degraded"
    (problem,) = [p for p in answer.json()["problems"] if "relayer balance" in p]
    assert RELAYER_ADDRESS in problem

    member = Api(client)
    (secret,) = codes(organizer, event["id"], 1)
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})
    assert claim.status_code == 202  # accepted although nothing can be sent now
    time.sleep(3)  # several relayer ticks
    assert member.get(f"/claims/{claim.json()['id']}").json()["status"] in ("accepted", "submitted")

    set_balance(RELAYER_ADDRESS, 100 * 10**18)  # the operator funds it
    assert wait_confirmed(member, claim.json()["id"], timeout=60)["status"] == "confirmed"
    assert client.get("/health").json()["status"] == "ok"


def next_base_fee(wei: int) -> None:
    """The next block's base fee, and that block (automine makes blocks only with transactions)."""
    web3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(wei)])
    web3.provider.make_request("evm_mine", [])


@pytest.fixture
def base_fee_restored():
    yield
    next_base_fee(0)


def test_a_fee_spike_above_the_sponsors_cap_holds_the_queue_and_it_drains_after(client, suite, base_fee_restored):
    organizer, org, event = organizer_with_event(client)
    before = members_with_badge(client, organizer, event, 3)
    secrets = codes(organizer, event["id"], 20)

    next_base_fee(20 * FEE_CAP)  # a spike: 20x the cap, as a busy mint on a public chain does
    members = [Api(client) for _ in secrets]
    claims = [m.post(f"/events/{event['id']}/claims", {"method": "code", "secret": s}) for m, s in zip(members, secrets)]
    assert [c.status_code for c in claims] == [202] * len(claims)  # accepted during the spike
    answer = client.get("/health")
    assert answer.status_code == 503 and any("sponsor's cap" in p for p in answer.json()["problems"])
    time.sleep(3)  # relayer ticks
    statuses = {m.get(f"/claims/{c.json()['id']}").json()["status"] for m, c in zip(members, claims)}
    assert statuses <= {"accepted", "submitted"}, statuses  # nothing went out at 20x the cap

    next_base_fee(0)
    for member, claim in zip(members, claims):
        wait_confirmed(member, claim.json()["id"], timeout=60)
    addresses = [m.me()["wallet_address"] for m in before + members]
    assert list(suite.badges.balanceOfBatch(addresses, [event["token_id"]] * len(addresses))) == [1] * len(addresses)
    assert sum(suite.points.balanceOf(a) for a in addresses) == 10 * len(addresses)  # points once, never twice

    # every budget charged what the receipts say was paid
    with client.app.state.session_factory() as session:
        sent = session.execute(select(OutboundTx.tx_hash, OutboundTx.gas_used, OutboundTx.fee_paid)
                               .where(OutboundTx.gas_used.is_not(None))).all()
        charged = session.get(Organization, org["id"]).gas_used
        charged_txs = session.scalars(select(OutboundTx.tx_hash).where(OutboundTx.organization_id == org["id"],
                                                                      OutboundTx.gas_used.is_not(None))).all()
    receipts = {h: web3.eth.get_transaction_receipt(h) for h, _, _ in sent}
    for tx_hash, gas_used, fee_paid in sent:
        receipt = receipts[tx_hash]
        assert (gas_used, fee_paid) == (receipt["gasUsed"], receipt["gasUsed"] * receipt["effectiveGasPrice"])
        assert receipt["effectiveGasPrice"] <= FEE_CAP
    assert charged == sum(receipts[h]["gasUsed"] for h in charged_txs)
