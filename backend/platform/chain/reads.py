"""Contract reads on the API's hot paths (casting a vote) without web3's per-call ABI lookup.

`contract.functions.f(...).call()` finds the function in the ABI, checks that the arguments can be encoded against
each overload and builds the transaction on every call: on the governor's large ABI that was most of a vote
request's CPU (bench/votes.py). Here the selector is computed once and the arguments are encoded with eth_abi; the
call itself still goes through `w3.eth.call`, so a revert raises as before.
"""

from __future__ import annotations

from functools import lru_cache

from eth_abi import decode, encode
from eth_utils import keccak
from web3.contract import Contract


@lru_cache(maxsize=None)
def _selector(signature: str) -> tuple[bytes, list[str]]:
    name_end = signature.index("(")
    types = [t for t in signature[name_end + 1:-1].split(",") if t]
    return keccak(text=signature)[:4], types


def encode_call(signature: str, *args) -> bytes:
    """The calldata of `signature` (e.g. "hasVoted(uint256,address)", flat types only) with `args`: what
    `contract.encode_abi` gives, without looking the function up in the ABI on every call."""
    selector, types = _selector(signature)
    return selector + encode(types, list(args))


def read(contract: Contract, signature: str, *args, returns: str = "uint256"):
    """Calls `signature` (e.g. "hasVoted(uint256,address)") on `contract` at the latest block; one return value."""
    return decode([returns], contract.w3.eth.call({"to": contract.address, "data": encode_call(signature, *args)}))[0]


def read_many(contract: Contract, calls: list[tuple[str, tuple, str]]) -> list:
    """Several reads of one contract that inherits OpenZeppelin's Multicall (the governor) in one eth_call, from one
    block: [(signature, args, return type), ...] -> their values. One round trip instead of one each, and the values
    are consistent with each other."""
    payloads = [encode_call(signature, *args) for signature, args, _returns in calls]
    answer = contract.w3.eth.call({"to": contract.address, "data": encode_call("multicall(bytes[])", payloads)})
    results = decode(["bytes[]"], answer)[0]
    return [decode([returns], result)[0] for (_s, _a, returns), result in zip(calls, results)]
