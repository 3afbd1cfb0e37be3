"""Contract event logs fetched and decoded without web3's per-log formatting (the indexer's hot path).

`w3.eth.get_logs` formats every log (checksummed addresses, HexBytes, AttributeDicts) and `event.process_log` looks
the event up and formats it again: about 0.5 ms a log here, and a festival batch of 100 claims leaves 300 logs
(bench/burst.py). Here the raw JSON-RPC answer is decoded once against the ABI with eth_abi. The result has the shape
of web3's decoded event as the indexer reads it: `event`, `args` (addresses checksummed, as web3 gives them),
`transactionHash` (HexBytes) and `blockNumber`.

Values of static types (uint, int, address, bool, bytes32: every field of a badge's or a point's transfer) are read
straight from their 32-byte words, and addresses are checksummed by a cached EIP-55 function: in a festival burst the
ABI decoder and eth_utils' validating checksum were a large share of the background worker's CPU
(docs/benchmarks.md). Dynamic types (arrays, strings) still go through eth_abi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from eth_abi import decode
from eth_utils import event_abi_to_log_topic, keccak
from hexbytes import HexBytes
from web3 import Web3

_STATIC = re.compile(r"u?int\d*|address|bool|bytes32")


@lru_cache(maxsize=65_536)  # the issuer, the zero address and the members of the moment come back log after log
def checksum_address(address: str) -> str:
    """EIP-55 of a 0x-hex address as the ABI decoder gives it (lower case, valid): what eth_utils'
    to_checksum_address returns, without its input validation."""
    hex_part = address[2:].lower()
    digest = keccak(hex_part.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if d in "89abcdef" else c for c, d in zip(hex_part, digest))


def tolerant_text(raw: bytes) -> str:
    """Text from bytes anyone may have sent: invalid UTF-8 replaced (U+FFFD), NUL removed (PostgreSQL refuses it)."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


def _word(abi_type: str, word: bytes):
    """The value of one static type from its 32-byte ABI word."""
    if abi_type == "address":
        return checksum_address("0x" + word[12:].hex())
    if abi_type == "bool":
        return word[31] == 1
    if abi_type == "bytes32":
        return word
    return int.from_bytes(word, "big", signed=abi_type.startswith("int"))


def _checksummed(abi_type: str, value):
    if abi_type == "address":
        return checksum_address(value)
    if abi_type.startswith("address[") and isinstance(value, (list, tuple)):
        return type(value)(_checksummed(abi_type[abi_type.index("]") + 1:] or "address", v) for v in value)
    return value


@dataclass(frozen=True)
class EventDecoder:
    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) of the topics after the signature, in order
    data: tuple[tuple[str, str], ...]  # (name, type) of the non-indexed inputs, in order
    order: tuple[str, ...]  # every input's name, in the ABI's order
    static: bool = field(default=False)  # every input of a static type: read word by word

    def __post_init__(self):
        object.__setattr__(self, "static", all(_STATIC.fullmatch(t) for _, t in self.indexed + self.data))

    @classmethod
    def of(cls, abi: dict) -> "EventDecoder":
        inputs = abi["inputs"]
        return cls(abi["name"], tuple((i["name"], i["type"]) for i in inputs if i["indexed"]),
                   tuple((i["name"], i["type"]) for i in inputs if not i["indexed"]), tuple(i["name"] for i in inputs))

    def decode(self, entry: dict) -> dict:
        # the fast path for a log of exactly the event's shape; anything else goes to eth_abi, which raises on it
        if (self.static and len(entry["topics"]) == 1 + len(self.indexed)
                and len(entry["data"]) == 2 + 64 * len(self.data)):
            values = {name: _word(abi_type, bytes.fromhex(topic[2:]))
                      for (name, abi_type), topic in zip(self.indexed, entry["topics"][1:])}
            data = bytes.fromhex(entry["data"][2:])
            for i, (name, abi_type) in enumerate(self.data):
                values[name] = _word(abi_type, data[32 * i:32 * i + 32])
            return self._event(values, entry)
        values = {}
        for (name, abi_type), topic in zip(self.indexed, entry["topics"][1:]):
            # an indexed dynamic value is only its hash; none of the contracts' events index one
            values[name] = _checksummed(abi_type, decode([abi_type], HexBytes(topic))[0])
        if self.data:
            # a string is read as the bytes it is on the wire (the same encoding) and made text tolerantly: anyone can
            # emit one that is not UTF-8 (a vote's reason), and eth_abi's strict decoding raised on it for good
            decoded = decode(["bytes" if t == "string" else t for _, t in self.data], HexBytes(entry["data"]))
            for (name, abi_type), value in zip(self.data, decoded):
                values[name] = tolerant_text(value) if abi_type == "string" else _checksummed(abi_type, value)
        return self._event(values, entry)

    def _event(self, values: dict, entry: dict) -> dict:
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


class RangeRefused(RuntimeError):
    """The provider refused the block range or the size of the answer: ask again for fewer blocks."""


# How providers word it: "block range is too wide", "exceed maximum block range: 10000", "query returned more than
# 10000 results", "Log response size exceeded", "eth_getLogs is limited to a 10,000 range", code -32005 ("limit
# exceeded"). A node's other errors (a bad filter) are not worth a smaller range.
_RANGE_WORDS = ("range", "more than", "too many", "size exceeded", "too large", "limit")


def raw_logs(w3: Web3, addresses: list[str], start: int, end: int) -> list[dict]:
    """eth_getLogs as the node sends it (hex strings), in block and log order; RangeRefused when the provider
    refuses the range or the answer's size."""
    response = w3.provider.make_request("eth_getLogs", [{"address": addresses, "fromBlock": hex(start),
                                                         "toBlock": hex(end)}])
    error = response.get("error")
    if error:
        message = str(error.get("message", error) if isinstance(error, dict) else error)
        code = error.get("code") if isinstance(error, dict) else None
        if code == -32005 or any(word in message.lower() for word in _RANGE_WORDS):
            raise RangeRefused(f"eth_getLogs of blocks {start}-{end} refused: {message[:200]}")
        raise RuntimeError(f"eth_getLogs failed: {error}")
    return response["result"]
