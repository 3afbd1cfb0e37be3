"""A background service in a daemon thread: the relayer and the indexer."""

from __future__ import annotations

import logging
import threading

ERROR_PAUSE_S = 1.0  # after a failed round: the node or the database may need a moment


class BackgroundLoop:
    """Calls `work()` until stopped; `work` returns the seconds to wait before the next round. A failing round is
    reported and retried: the service must outlive any one bad step."""

    thread_name = "kyoso-service"
    log = logging.getLogger("kyoso")

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def work(self) -> float:
        raise NotImplementedError

    def report(self, exc: Exception) -> None:
        self.log.exception("%s round failed", self.thread_name, exc_info=exc)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pause = self.work()
            except Exception as exc:  # noqa: BLE001 - reported, then retried
                self.report(exc)
                pause = ERROR_PAUSE_S
            self._stop.wait(pause)
