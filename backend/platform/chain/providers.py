"""Several RPC providers for one chain, as public networks are used: the first that answers, in the order given (the
primary first), each behind a circuit breaker.

A provider that fails (connection refused or dropped, a timeout, an HTTP 5xx) three times in a row rests for a while
that doubles with each further failure (1 s up to a minute); one that answers 429 rests for its Retry-After (1 s
without one, at most a minute). A request goes to the first provider not resting; when every one fails or rests, and
the soonest is back within MAX_WAIT_S, the request waits for it once; otherwise it fails as a ConnectionError, which
the relayer, the indexer and the API already treat as "the node is unavailable, try again".

An answer with a JSON-RPC error (a revert, "block range too large") is the node's answer, not the provider's fault: it
is returned as it is (the indexer shrinks its eth_getLogs range on such answers, backend/platform/chain/logs.py).

Why not web3's own retry (`exception_retry_configuration`): it retries one URL, without honouring Retry-After and
without remembering that a provider is down, so every request of a tick would wait for the same timeout again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests
from web3 import HTTPProvider
from web3._utils.batching import sort_batch_response_by_response_ids

from backend.platform.redaction import redact_url, register, url_secrets

FAILURES_TO_REST = 3
REST_MAX_S = 60.0
RETRY_AFTER_DEFAULT_S = 1.0
MAX_WAIT_S = 2.0


@dataclass
class Endpoint:
    uri: str
    failures: int = 0  # in a row
    resting_until: float = 0.0  # time.monotonic()
    last_error: str | None = None
    last_error_at: datetime | None = None
    answered: int = 0

    @property
    def label(self) -> str:
        return redact_url(self.uri)


class FailoverProvider(HTTPProvider):
    def __init__(self, uris: list[str], timeout_s: float):
        if not uris:
            raise ValueError("at least one RPC URL is needed")
        # eth_chainId is cached: web3's validation middleware asks for it before every eth_call and eth_estimateGas,
        # which doubled the round trips of every contract read (bench/votes.py); the app checks the chain id at start.
        super().__init__(uris[0], request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None,
                         cache_allowed_requests=True, cacheable_requests={"eth_chainId"})
        for uri in uris:
            register(*url_secrets(uri))  # a provider's API key never reaches a log line
        self.endpoints = [Endpoint(uri) for uri in uris]
        self._lock = threading.Lock()
        self._in_use = self.endpoints[0]

    # web3's HTTPProvider posts through these two; everything else (encoding, decoding, caching) is its own.
    def _make_request(self, method, request_data: bytes) -> bytes:
        return self._post(request_data)

    def make_batch_request(self, batch_requests):
        response = self.decode_rpc_response(self._post(self.encode_batch_rpc_request(batch_requests)))
        if not isinstance(response, list):
            return response  # an error for the whole batch
        return sort_batch_response_by_response_ids(response)

    def _post(self, request_data: bytes) -> bytes:
        for round_ in range(2):
            for endpoint in self._available():
                try:
                    raw = self._request_session_manager.make_post_request(endpoint.uri, request_data,
                                                                          **self.get_request_kwargs())
                except requests.HTTPError as exc:
                    status = exc.response.status_code if exc.response is not None else None
                    retry_after = _retry_after(exc.response) if status == 429 else None
                    self._failed(endpoint, f"HTTP {status}", retry_after)
                except (requests.ConnectionError, requests.Timeout, OSError) as exc:
                    self._failed(endpoint, type(exc).__name__)
                else:
                    self._answered(endpoint)
                    return raw
            wait = min(e.resting_until for e in self.endpoints) - time.monotonic()
            if round_ == 0 and wait <= MAX_WAIT_S:
                time.sleep(max(wait, 0.1))
                continue
            break
        raise requests.ConnectionError("no RPC provider answered: " + "; ".join(
            f"{e.label}: {e.last_error}" for e in self.endpoints))

    def _available(self) -> list[Endpoint]:
        now = time.monotonic()
        return [e for e in self.endpoints if e.resting_until <= now]

    def _failed(self, endpoint: Endpoint, error: str, retry_after: float | None = None) -> None:
        with self._lock:
            endpoint.failures += 1
            endpoint.last_error, endpoint.last_error_at = error, datetime.now(timezone.utc)
            if retry_after is not None:
                endpoint.resting_until = time.monotonic() + min(retry_after, REST_MAX_S)
            elif endpoint.failures >= FAILURES_TO_REST:
                rest = min(2.0 ** (endpoint.failures - FAILURES_TO_REST), REST_MAX_S)
                endpoint.resting_until = time.monotonic() + rest

    def _answered(self, endpoint: Endpoint) -> None:
        with self._lock:
            endpoint.failures, endpoint.resting_until = 0, 0.0
            endpoint.answered += 1
            self._in_use = endpoint

    def status(self) -> list[dict[str, Any]]:
        """Each provider as health shows it: which one is in use, which are failing or resting, and why."""
        now = time.monotonic()
        rows = []
        for endpoint in self.endpoints:
            if endpoint.resting_until > now:
                state = "resting"
            elif endpoint.failures:
                state = "failing"
            else:
                state = "in use" if endpoint is self._in_use else "standby"
            rows.append({"provider": endpoint.label, "state": state, "failures_in_a_row": endpoint.failures,
                         "last_error": endpoint.last_error,
                         "last_error_at": endpoint.last_error_at.isoformat() if endpoint.last_error_at else None})
        return rows


def _retry_after(response) -> float:
    """Retry-After in seconds (a number; an HTTP date is rare from RPC providers and taken as the default)."""
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except (TypeError, ValueError):
        return RETRY_AFTER_DEFAULT_S
