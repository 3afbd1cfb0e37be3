"""100 attendees claim at once: 100 badges, the relayer's nonces contiguous, fewer transactions than claims."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from brownie import web3
from sqlalchemy import select

from backend.platform.models import OutboundTx, TxStatus
from tests.backend.conftest import Api, codes, organizer_with_event, wait_for

ATTENDEES = 100


def test_hundred_concurrent_claims_are_batched_into_fewer_transactions(client, suite):
    organizer, org, event = organizer_with_event(client)
    secrets = codes(organizer, event["id"], ATTENDEES)
    with ThreadPoolExecutor(max_workers=16) as pool:
        attendees = list(pool.map(lambda _: Api(client), range(ATTENDEES)))

        def claim(pair):
            attendee, secret = pair
            return attendee.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})

        responses = list(pool.map(claim, zip(attendees, secrets)))
    assert [r.status_code for r in responses] == [202] * ATTENDEES

    def all_confirmed():
        statuses = [a.get(f"/claims/{r.json()['id']}").json()["status"] for a, r in zip(attendees, responses)]
        return all(s == "confirmed" for s in statuses)

    wait_for(all_confirmed, timeout=120, interval=1.0, what="all claims confirmed")
    addresses = [a.me()["wallet_address"] for a in attendees]
    balances = suite.badges.balanceOfBatch(addresses, [event["token_id"]] * ATTENDEES)
    assert list(balances) == [1] * ATTENDEES

    with client.app.state.session_factory() as session:
        txs = session.scalars(select(OutboundTx).where(OutboundTx.sender == org["issuer_address"])
                              .order_by(OutboundTx.nonce)).all()
    issues = [t for t in txs if t.purpose == "issue"]
    assert 1 <= len(issues) < ATTENDEES
    assert all(t.status == TxStatus.mined for t in txs)
    nonces = [t.nonce for t in txs]
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))  # contiguous, none skipped
    assert web3.eth.get_transaction_count(org["issuer_address"]) == nonces[-1] + 1
