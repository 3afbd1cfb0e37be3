"""Read coalescing: the chain reads of every vote request waiting at one moment, in one `eth_call`.

Why: a vote depends on five reads of the governor (state, clock, hasVoted, the ballot nonce, the voting power), made in
one multicall per request (backend/platform/chain/reads.py). In a vote burst, 40 request threads each sent that call on their
own, and most of the vote route's CPU went to web3's request path (middlewares, `requests`) while Anvil answered
the calls one after another (docs/benchmarks.md). Here one thread takes every read waiting at that moment and sends
them to the contract as a single multicall from one block, then hands each request its values. Like the group
committer (backend/platform/group_commit.py) nothing waits to gather company: reads that arrive while a call is under way
form the next batch, so a lone vote is as quick as before.

One revert in a multicall reverts all of it (OpenZeppelin's Multicall): a batch that reverts is then read again one
request at a time, so each request sees its own answer, revert or values, as if it had read alone.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from concurrent.futures import Future

from fastapi.concurrency import run_in_threadpool
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from backend.platform.batching import BatchWorker
from backend.platform.chain import reads

log = logging.getLogger("kyoso.read_batch")

# Sub-calls in one eth_call at most: 40 request threads' five reads each fit, and the call's gas stays far under the
# block gas limit that Anvil and public nodes give an eth_call (~3,000 gas a read: 200 reads ~ 0.6M).
MAX_CALLS = 200

Calls = list[tuple[str, tuple, str]]
Reads = tuple[Contract, Calls]


class ReadBatcher(BatchWorker[Reads]):
    """`read_many(contract, calls)`: what `reads.read_many` returns, read together with the other requests' reads."""

    def __init__(self, name: str = "kyoso-read-batch"):
        super().__init__(name)

    def read_many(self, contract: Contract, calls: Calls) -> list:
        if self.stopped:  # shutting down: read alone rather than wait for a thread that is gone
            return reads.read_many(contract, calls)
        return self._submit((contract, calls))

    async def read_many_async(self, contract: Contract, calls: Calls) -> list:
        """`read_many` for a route on the event loop: awaits the batch's eth_call instead of blocking a thread."""
        if self.stopped:
            return await run_in_threadpool(reads.read_many, contract, calls)
        return await asyncio.wrap_future(self._enqueue((contract, calls)))

    def _fits(self, batch: list[tuple[Reads, Future]], item: Reads) -> bool:
        # a request for another contract, or one that would overflow the call, starts the next batch
        return (item[0].address == batch[0][0][0].address
                and sum(len(calls) for (_c, calls), _f in batch) + len(item[1]) <= MAX_CALLS)

    def _serve(self, batch: list[tuple[Reads, Future]]) -> None:
        self._read([(contract, calls, future) for (contract, calls), future in batch])

    @staticmethod
    def _read(batch: list[tuple[Contract, Calls, Future]]) -> None:
        contract = batch[0][0]
        try:
            values = reads.read_many(contract, [call for _c, calls, _f in batch for call in calls])
        except ContractLogicError as exc:
            if len(batch) == 1:
                batch[0][2].set_exception(exc)
                return
            for item_contract, calls, future in batch:  # some request's read reverts: each reads alone
                try:
                    future.set_result(reads.read_many(item_contract, calls))
                except Exception as exc:  # noqa: BLE001 - the request raises it
                    future.set_exception(exc)
            return
        except Exception as exc:  # noqa: BLE001 - the node is unreachable or answered garbage: every request sees it
            for _c, _calls, future in batch:
                # each request its own instance: they are raised (and get tracebacks) in different threads
                try:
                    own = copy.copy(exc).with_traceback(None)
                except Exception:  # noqa: BLE001 - an exception class that cannot be rebuilt from its args
                    own = RuntimeError(f"{type(exc).__name__}: {exc}")
                future.set_exception(own)
            return
        start = 0
        for _c, calls, future in batch:
            future.set_result(values[start:start + len(calls)])
            start += len(calls)

