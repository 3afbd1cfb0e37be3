"""Connection to the chain node."""

from __future__ import annotations

from web3 import HTTPProvider, Web3


def make_web3(rpc_url: str, timeout_s: float) -> Web3:
    # No retries at this level: /health must report a stalled node at once, and the relayer has its own policy.
    provider = HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None)
    return Web3(provider)
