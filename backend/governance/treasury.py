"""The treasury (the timelock's balances) and amounts in whole units, as people read them."""

from __future__ import annotations

from decimal import Context, Decimal
from functools import lru_cache

from web3 import Web3

ETH_DECIMALS = 18
ERC20_ABI = [
    {"type": "function", "name": name, "stateMutability": "view", "inputs": inputs, "outputs": [{"type": out}]}
    for name, inputs, out in (
        ("symbol", [], "string"),
        ("decimals", [], "uint8"),
        ("balanceOf", [{"name": "account", "type": "address"}], "uint256"),
    )
]


class NotAToken(ValueError):
    pass


def erc20(w3: Web3, address: str):
    return w3.eth.contract(address=address, abi=ERC20_ABI)


@lru_cache(maxsize=256)
def _token_info(w3: Web3, address: str) -> tuple[str, int]:
    contract = erc20(w3, address)
    try:
        return contract.functions.symbol().call(), contract.functions.decimals().call()
    except Exception as exc:  # noqa: BLE001 - no code, or not an ERC-20: the caller says so clearly
        raise NotAToken(f"{address} is not an ERC-20 token on this chain") from exc


def token_info(w3: Web3, token: str | None) -> tuple[str, int]:
    """(symbol, decimals) of an ERC-20 token, or of ETH for None; NotAToken if the address does not answer as one."""
    return ("ETH", ETH_DECIMALS) if token is None else _token_info(w3, token)


def shown_token_info(w3: Web3, token: str | None) -> tuple[str, int]:
    """For display: a token that stopped answering (a member's own contract may) is shown, not allowed to break the
    page."""
    try:
        return token_info(w3, token)
    except NotAToken:
        return "?", ETH_DECIMALS


def balance_of(w3: Web3, token: str | None, holder: str) -> int:
    if token is None:
        return w3.eth.get_balance(holder)
    return erc20(w3, token).functions.balanceOf(holder).call()


# Decimal's default 28 significant digits would round large token amounts (uint256 has 78).
EXACT = Context(prec=100)


def to_base_units(amount: str, decimals: int) -> int:
    value = EXACT.multiply(Decimal(amount), EXACT.power(Decimal(10), decimals))
    if value != value.to_integral_value():
        raise ValueError(f"has more than {decimals} decimal places")
    return int(value)


def to_whole_units(amount: int, decimals: int) -> str:
    text = format(EXACT.divide(Decimal(amount), EXACT.power(Decimal(10), decimals)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
