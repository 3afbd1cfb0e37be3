"""EIP-712 typed data with the domain read from the contract's eip712Domain() (ERC-5267), never hard-coded."""

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


def domain_from_erc5267(values, **overrides) -> dict:
    """The domain from eip712Domain()'s return values: (fields, name, version, chainId, verifyingContract, salt, _)."""
    fields, name, version, chain_id, verifying_contract, salt, _extensions = values
    mask = fields[0] if isinstance(fields, (bytes, bytearray)) else int(str(fields), 16)
    all_values = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract,
                  "salt": salt}
    domain = {key: all_values[key] for bit, (key, _t) in enumerate(DOMAIN_FIELDS) if mask >> bit & 1}
    domain.update(overrides)
    return domain


def typed_data(domain: dict, primary: str, types: list[tuple[str, str]], message: dict) -> dict:
    """The full EIP-712 structure, as a wallet's eth_signTypedData_v4 takes it."""
    return {
        "types": {
            "EIP712Domain": [{"name": k, "type": t} for k, t in DOMAIN_FIELDS if k in domain],
            primary: [{"name": k, "type": t} for k, t in types],
        },
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }


def for_wallet(typed: dict) -> dict:
    """Typed data as JSON for a wallet's eth_signTypedData_v4: numbers as decimal strings (a uint256 does not fit a
    JavaScript number), bytes as 0x-hex."""
    out = {**typed, "domain": dict(typed["domain"]), "message": dict(typed["message"])}
    for part in (out["domain"], out["message"]):
        for key, value in part.items():
            if isinstance(value, int):
                part[key] = str(value)
            elif isinstance(value, (bytes, bytearray)):
                part[key] = "0x" + bytes(value).hex()
    return out


def sign_typed(private_key, domain: dict, primary: str, types: list[tuple[str, str]], message: dict) -> bytes:
    typed = typed_data(domain, primary, types, message)
    return bytes(Account.sign_message(encode_typed_data(full_message=typed), private_key).signature)


SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def normalized_signature(signature: bytes) -> bytes | None:
    """The 65-byte signature as OpenZeppelin's ECDSA accepts it (v 27 or 28), or None if the chain would refuse it:
    wallets that sign with v 0/1 are normalized; a high-s (malleable) signature is refused, as ECDSA.recover does."""
    if len(signature) != 65:
        return None
    v = signature[64] + 27 if signature[64] in (0, 1) else signature[64]
    if v not in (27, 28) or int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N:
        return None
    return signature[:64] + bytes([v])


def recover_typed(domain: dict, primary: str, types: list[tuple[str, str]], message: dict, signature: bytes) -> str:
    """The address that signed this typed data (any 65-byte signature recovers to some address: compare it)."""
    return Account.recover_message(encode_typed_data(full_message=typed_data(domain, primary, types, message)),
                                   signature=signature)


MIGRATION_TYPES = [("from", "address"), ("to", "address"), ("nonce", "uint256"), ("deadline", "uint256")]
CLAIM_TYPES = [("recipient", "address"), ("eventId", "uint256"), ("deadline", "uint256")]
BALLOT_TYPES = [("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")]
EXTENDED_BALLOT_TYPES = [*BALLOT_TYPES, ("reason", "string"), ("params", "bytes")]
DELEGATION_TYPES = [("delegatee", "address"), ("nonce", "uint256"), ("expiry", "uint256")]
