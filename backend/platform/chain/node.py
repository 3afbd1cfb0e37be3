"""Connection to the chain node."""

from __future__ import annotations

from web3 import HTTPProvider, Web3


def make_web3(rpc_url: str, timeout_s: float) -> Web3:
    # No retries at this level: /health must report a stalled node at once, and the relayer has its own policy.
    # eth_chainId is cached: web3's validation middleware asks for it before every eth_call and eth_estimateGas,
    # which doubled the round trips of every contract read (bench/votes.py); the app checks the chain id at start.
    provider = HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None,
                            cache_allowed_requests=True, cacheable_requests={"eth_chainId"})
    return Web3(provider)
