"""EIP-712 signing as a wallet does it, with the domain read from the contract's eip712Domain() (never hard-coded)."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_FIELDS = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
]


def domain_of(contract, **overrides) -> dict:
    fields, name, version, chain_id, verifying_contract, salt, _extensions = contract.eip712Domain()
    values = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract,
              "salt": salt}
    present = {key for bit, (key, _type) in enumerate(DOMAIN_FIELDS) if int(fields.hex(), 16) >> bit & 1}
    domain = {key: values[key] for key in present}
    domain.update(overrides)
    return domain


def sign_typed(private_key: str, domain: dict, primary: str, types: list[tuple[str, str]], message: dict) -> bytes:
    typed = {
        "types": {
            "EIP712Domain": [{"name": k, "type": t} for k, t in DOMAIN_FIELDS if k in domain],
            primary: [{"name": k, "type": t} for k, t in types],
        },
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return bytes(signed.signature)


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def malleable(signature: bytes) -> bytes:
    """The same signature with s' = n - s and v flipped: valid for raw ecrecover, rejected by OpenZeppelin."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v if v in (27, 28) else v ^ 1])
