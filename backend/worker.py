"""The background worker: the relayer, the indexer and the mailer in a process of their own, without the HTTP API.

    python -m backend.worker

Run it beside API processes started with KYOSO_RELAYER_ENABLED=false and KYOSO_INDEXER_ENABLED=false (docs/backend.md
"Deployment layout"). Why: in one process the API's request threads and the relayer share one interpreter lock, and
during a festival burst the relayer got so little of it that confirmations waited for the burst to end (bench/burst.py,
docs/benchmarks.md). In a process of its own it confirms while the burst is still arriving.

It reads the same environment as the API and makes the same checks at start (the database migrated, the node's
chain id, no development keys on a public chain, the deployment registry). The leases of backend/platform/lease.py still
decide which process relays and which indexes, so a second worker, or an API process with its services on, waits as
a standby and takes over within seconds when the active one stops. SIGTERM or Ctrl-C stops it cleanly: what it was
doing is in the database and is taken up again by the next holder of the lease.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from pydantic import ValidationError

from backend.app import create_app
from backend.platform.config import get_settings
from backend.relayer.service import Relayer

log = logging.getLogger("kyoso.worker")


async def _run(app) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):  # the API's own start-up and shut-down, services included
        if app.state.services is None:
            # exit, so that the supervisor (make run, systemd, ...) shows it and starts it again, rather than run on
            # with nothing relaying while the API keeps accepting
            raise SystemExit(f"Kyoso's worker cannot run the relayer and the indexer: "
                             f"{app.state.deployment_problem}")
        log.warning("relayer and indexer started (each becomes active once it holds its lease)")
        await stop.wait()


def main(relayer_class: type[Relayer] = Relayer) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise SystemExit(f"Kyoso's worker cannot start, the configuration is invalid:\n{exc}") from None
    # this process exists to run them, whatever the API processes beside it are told
    settings = settings.model_copy(update={"relayer_enabled": True, "indexer_enabled": True, "mailer_enabled": True})
    asyncio.run(_run(create_app(settings, relayer_class)))


if __name__ == "__main__":
    main()
