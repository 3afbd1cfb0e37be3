"""The indexer's log decoding (backend/platform/chain/logs.py) gives what web3 gives: the word-by-word path for static types
and the cached EIP-55 checksum against eth_abi and eth_utils, on logs of the contracts' own event ABIs."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import event_abi_to_log_topic, to_checksum_address
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from backend.platform.chain.contracts import abi
from backend.platform.chain.logs import EventDecoder, checksum_address

# No chain here: brownie's `given`, which reverts the chain between examples, would only slow these down.
pytestmark = pytest.mark.filterwarnings("ignore:Directly importing `hypothesis.given`")

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uint256 = st.integers(min_value=0, max_value=2**256 - 1)


def event_abi(contract: str, name: str) -> dict:
    return next(e for e in abi(contract) if e.get("type") == "event" and e["name"] == name)


def web3_decoded(contract: str, entry: dict) -> dict:
    """web3's own decoding of the same raw log (the reference)."""
    w3 = Web3()
    instance = w3.eth.contract(address=entry["address"], abi=abi(contract))
    formatted = {**entry, "topics": [bytes.fromhex(t[2:]) for t in entry["topics"]],
                 "data": bytes.fromhex(entry["data"][2:]), "blockNumber": int(entry["blockNumber"], 16),
                 "logIndex": int(entry["logIndex"], 16), "transactionIndex": 0, "blockHash": b"\0" * 32,
                 "transactionHash": bytes.fromhex(entry["transactionHash"][2:])}
    name = next(e["name"] for e in abi(contract) if e.get("type") == "event"
                and "0x" + event_abi_to_log_topic(e).hex().removeprefix("0x") == entry["topics"][0])
    return dict(getattr(instance.events, name)().process_log(formatted)["args"])


def raw_log(event: dict, indexed: list, data_types: list, data: list) -> dict:
    topics = ["0x" + event_abi_to_log_topic(event).hex().removeprefix("0x")]
    topics += ["0x" + encode([t], [v]).hex() for t, v in indexed]
    return {"address": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "topics": topics,
            "data": "0x" + encode(data_types, data).hex(), "blockNumber": "0x10", "logIndex": "0x2",
            "transactionHash": "0x" + "ab" * 32}


@given(st.lists(addresses, min_size=1, max_size=50))
def test_checksum_is_eip55_as_eth_utils_gives_it(values):
    assert [checksum_address(v) for v in values] == [to_checksum_address(v) for v in values]
    assert [checksum_address(to_checksum_address(v)) for v in values] == [to_checksum_address(v) for v in values]


@settings(max_examples=200)
@given(addresses, addresses, addresses, uint256, uint256)
def test_a_badge_transfer_decodes_as_web3_decodes_it(operator, source, target, token_id, value):
    event = event_abi("ParticipationBadges", "TransferSingle")
    entry = raw_log(event, [("address", operator), ("address", source), ("address", target)],
                    ["uint256", "uint256"], [token_id, value])
    decoded = EventDecoder.of(event).decode(entry)
    assert EventDecoder.of(event).static
    assert decoded["args"] == web3_decoded("ParticipationBadges", entry)
    assert (decoded["event"], decoded["blockNumber"], decoded["logIndex"]) == ("TransferSingle", 16, 2)


@settings(max_examples=100)
@given(addresses, addresses, st.lists(uint256, max_size=5))
def test_a_batch_transfer_with_arrays_still_decodes_as_web3_decodes_it(operator, target, ids):
    event = event_abi("ParticipationBadges", "TransferBatch")
    entry = raw_log(event, [("address", operator), ("address", "0x" + "00" * 20), ("address", target)],
                    ["uint256[]", "uint256[]"], [ids, [1] * len(ids)])
    assert not EventDecoder.of(event).static
    decoded = EventDecoder.of(event).decode(entry)["args"]
    reference = web3_decoded("ParticipationBadges", entry)
    assert {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in decoded.items()} == \
        {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in reference.items()}


def test_the_events_the_indexer_reads_most_take_the_static_path():
    static = {name: EventDecoder.of(event_abi(contract, name)).static for contract, name in
              (("ParticipationBadges", "TransferSingle"), ("ParticipationPoints", "Transfer"),
               ("ParticipationPoints", "DelegateVotesChanged"), ("KyosoGovernor", "VoteCast"))}
    assert static == {"TransferSingle": True, "Transfer": True, "DelegateVotesChanged": True, "VoteCast": False}
