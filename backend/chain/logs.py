"""Contract event logs fetched and decoded without web3's per-log formatting (the indexer's hot path).

`w3.eth.get_logs` formats every log (checksummed addresses, HexBytes, AttributeDicts) and `event.process_log` looks
the event up and formats it again: about 0.5 ms a log here, and a festival batch of 100 claims leaves 300 logs
(bench/burst.py). Here the raw JSON-RPC answer is decoded once against the ABI with eth_abi. The result has the shape
of web3's decoded event as the indexer reads it: `event`, `args` (addresses checksummed, as web3 gives them),
`transactionHash` (HexBytes) and `blockNumber`.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode
from eth_utils import event_abi_to_log_topic, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3


def _checksummed(abi_type: str, value):
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("address[") and isinstance(value, (list, tuple)):
        return type(value)(_checksummed(abi_type[abi_type.index("]") + 1:] or "address", v) for v in value)
    return value


@dataclass(frozen=True)
class EventDecoder:
    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) of the topics after the signature, in order
    data: tuple[tuple[str, str], ...]  # (name, type) of the non-indexed inputs, in order
    order: tuple[str, ...]  # every input's name, in the ABI's order

    @classmethod
    def of(cls, abi: dict) -> "EventDecoder":
        inputs = abi["inputs"]
        return cls(abi["name"], tuple((i["name"], i["type"]) for i in inputs if i["indexed"]),
                   tuple((i["name"], i["type"]) for i in inputs if not i["indexed"]), tuple(i["name"] for i in inputs))

    def decode(self, entry: dict) -> dict:
        values = {}
        for (name, abi_type), topic in zip(self.indexed, entry["topics"][1:]):
            # an indexed dynamic value is only its hash; none of the contracts' events index one
            values[name] = _checksummed(abi_type, decode([abi_type], HexBytes(topic))[0])
        if self.data:
            decoded = decode([t for _, t in self.data], HexBytes(entry["data"]))
            for (name, abi_type), value in zip(self.data, decoded):
                values[name] = _checksummed(abi_type, value)
        return {"event": self.name, "args": {name: values[name] for name in self.order},
                "transactionHash": HexBytes(entry["transactionHash"]), "blockNumber": int(entry["blockNumber"], 16),
                "logIndex": int(entry["logIndex"], 16)}


def decoders(contract, names) -> dict[tuple[str, str], EventDecoder]:
    """{(lower-case address, topic 0 as 0x-hex): decoder} for the named events of `contract`."""
    found = {}
    for abi in contract.abi:
        if abi.get("type") == "event" and abi["name"] in names and not abi.get("anonymous"):
            found[(contract.address.lower(), "0x" + event_abi_to_log_topic(abi).hex().removeprefix("0x"))] = \
                EventDecoder.of(abi)
    missing = set(names) - {d.name for d in found.values()}
    if missing:
        raise LookupError(f"{contract.address} has no event {sorted(missing)}")
    return found


def raw_logs(w3: Web3, addresses: list[str], start: int, end: int) -> list[dict]:
    """eth_getLogs as the node sends it (hex strings), in block and log order."""
    response = w3.provider.make_request("eth_getLogs", [{"address": addresses, "fromBlock": hex(start),
                                                         "toBlock": hex(end)}])
    if response.get("error"):
        raise RuntimeError(f"eth_getLogs failed: {response['error']}")
    return response["result"]
