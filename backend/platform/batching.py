"""A worker thread that serves requests in batches: each time it is free it takes every request waiting at that moment.

Shared by the group committer (backend/platform/group_commit.py: many requests' writes, one commit) and the read batcher
(backend/platform/chain/read_batch.py: many requests' chain reads, one eth_call). Nothing waits to gather company: requests
that arrive while a batch is being served form the next batch, so a lone request is served as quickly as without
batching, and under load the batches grow by themselves.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
_STOP = object()
log = logging.getLogger("kyoso.batching")


class BatchWorker(Generic[Item]):
    """`_submit(item)` blocks until the worker thread has served `item` in `_serve(batch)`, a list of (item, future)
    whose every future the subclass completes."""

    def __init__(self, name: str):
        self._stopped = False
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def _submit(self, item: Item):
        return self._enqueue(item).result()

    def _enqueue(self, item: Item) -> Future:
        future: Future = Future()
        self._queue.put((item, future))
        return future

    def stop(self) -> None:
        """Serves what is already waiting, then ends the thread; a request that slipped in behind the stop gets
        `_unserved()` instead of waiting for ever."""
        self._stopped = True
        self._queue.put(_STOP)
        self._thread.join(timeout=10)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item[1].set_running_or_notify_cancel():
                item[1].set_exception(self._unserved())

    def _unserved(self) -> BaseException:
        """What a request that this worker could not serve raises."""
        return RuntimeError(f"{self._thread.name} has stopped")

    def _fits(self, batch: list[tuple[Item, Future]], item: Item) -> bool:
        """Whether `item` may join `batch` (else it starts the next one)."""
        return True

    def _serve(self, batch: list[tuple[Item, Future]]) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        pending = None
        while True:
            first, pending = (pending if pending is not None else self._queue.get()), None
            if first is _STOP:
                return
            batch = [first]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP or not self._fits(batch, more[0]):
                    pending = more
                    break
                batch.append(more)
            # a request whose waiter was cancelled meanwhile (its task cancelled, e.g. at shutdown) is left out; the
            # others can no longer be cancelled, so the results set below always land
            batch = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                self._serve(batch)
            except BaseException:  # noqa: BLE001 - the thread must outlive any one batch, or every request hangs
                log.exception("%s failed a batch of %d", self._thread.name, len(batch))
                for _item, future in batch:
                    if not future.done():
                        future.set_exception(self._unserved())
