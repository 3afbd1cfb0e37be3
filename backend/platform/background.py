"""A background service in a daemon thread: the relayer and the indexer."""

from __future__ import annotations

import logging
import threading

from backend.platform.lease import LEASE_RETRY_S, Lease

ERROR_PAUSE_S = 1.0  # after a failed round: the node or the database may need a moment


class BackgroundLoop:
    """Calls `work()` until stopped; `work` returns the seconds to wait before the next round. A failing round is
    reported and retried: the service must outlive any one bad step.

    Started with a `Lease`, it works only while this process holds it (several processes may share the database):
    the others wait, and take over when the holder stops renewing it. `on_lease_taken` runs each time this process
    (re)gains it, before any work, since the previous holder may have left work half done."""

    thread_name = "kyoso-service"
    log = logging.getLogger("kyoso")

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lease: Lease | None = None

    def work(self) -> float:
        raise NotImplementedError

    def on_lease_taken(self) -> None:
        """Called when this process starts holding the lease."""

    def leading(self) -> bool:
        """True while this process may do the service's work (no lease, or the lease is held and renewed)."""
        return self.lease is None or self.lease.hold()

    def report(self, exc: Exception) -> None:
        self.log.exception("%s round failed", self.thread_name, exc_info=exc)

    def start(self, lease: Lease | None = None) -> None:
        self.lease = lease
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.lease is not None:
            try:
                self.lease.release()
            except Exception:  # noqa: BLE001 - the lease then simply runs out
                self.log.warning("%s could not release its lease", self.thread_name)

    def _round(self) -> float:
        if self.lease is not None:
            was_held = self.lease.held
            if not self.lease.hold():
                return LEASE_RETRY_S
            if not was_held:
                self.log.info("%s: this process (%s) holds the lease now", self.thread_name, self.lease.holder)
                self.on_lease_taken()
        return self.work()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pause = self._round()
            except Exception as exc:  # noqa: BLE001 - reported, then retried
                self.report(exc)
                pause = ERROR_PAUSE_S
            self._stop.wait(pause)
