"""EIP-712 signing as a wallet does it, with the domain read from the contract's eip712Domain() (never hard-coded)."""

from __future__ import annotations

from backend.platform.chain.eip712 import domain_from_erc5267, sign_typed

__all__ = ["domain_of", "sign_typed", "malleable"]


def domain_of(contract, **overrides) -> dict:
    """The domain of a brownie contract object."""
    return domain_from_erc5267(contract.eip712Domain(), **overrides)


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def malleable(signature: bytes) -> bytes:
    """The same signature with s' = n - s and v flipped: valid for raw ecrecover, rejected by OpenZeppelin."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v if v in (27, 28) else v ^ 1])
