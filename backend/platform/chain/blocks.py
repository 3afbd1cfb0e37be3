"""Block hashes as the indexer and the relayer compare them to notice a reorg (backend/indexer/reorgs.py,
backend/relayer/reorgs.py): one spelling (0x, lower case) and one window for both."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import BlockNotFound

# Blocks below the head within which a reorg is taken back (4 minutes of 2 s blocks, 25 of 12 s ones).
REORG_WINDOW = 128


def hash_hex(value) -> str:
    """A block hash as stored: 0x and lower-case hex, from the HexBytes web3 gives or the string of a raw answer."""
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex().removeprefix("0x")


def hash_at(w3: Web3, number: int) -> str | None:
    """The node's hash for block `number` now; None once the chain is shorter than that."""
    try:
        return hash_hex(w3.eth.get_block(number)["hash"])
    except BlockNotFound:
        return None
