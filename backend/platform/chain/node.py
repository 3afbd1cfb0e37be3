"""Connection to the chain node: the RPC URL and, for public networks, other providers to fall back on
(backend/platform/chain/providers.py)."""

from __future__ import annotations

from web3 import Web3

from backend.platform.chain.providers import FailoverProvider


def make_web3(rpc_url: str, timeout_s: float, fallback_urls: tuple[str, ...] = ()) -> Web3:
    # No retries of one URL at this level: /health must report a stalled node at once, and the relayer has its own
    # policy; another provider is tried at once instead.
    return Web3(FailoverProvider([rpc_url, *fallback_urls], timeout_s))
