"""Rows that anyone can make the backend write, deleted once they have expired: Sign-In with Ethereum nonces (`GET
/api/auth/siwe/nonce`, no log-in needed) and unused perk passes (one a minute while a perk's page is open). Without it
both tables only grow.

A step of the relayer's tick (the process that holds the relayer's lease, so one process does it), at most every
PURGE_EVERY_S; each run deletes at most PURGE_BATCHES batches of PURGE_BATCH rows per table, each batch its own short
transaction (the claims' writes wait behind none of them for long). A run that left more comes back at the next tick.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session, sessionmaker

from backend.accounts.siwe import purge_expired_nonces
from backend.perks.service import purge_expired_passes
from backend.platform.orm import utcnow

log = logging.getLogger("kyoso.relayer")

PURGE_EVERY_S = 60.0
PURGE_BATCH = 1_000
PURGE_BATCHES = 20
PURGES = (purge_expired_nonces, purge_expired_passes)


class Housekeeping:
    sessions: sessionmaker[Session]
    _next_purge = 0.0  # monotonic time of the next run; the first tick runs one

    def _purge_expired(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        now, left_over = utcnow(), False
        for purge in PURGES:
            deleted = 0
            for _ in range(PURGE_BATCHES):
                with self.sessions() as session:
                    batch = purge(session=session, now=now, batch=PURGE_BATCH)
                deleted += batch
                if batch < PURGE_BATCH:
                    break
            else:
                left_over = True
            if deleted:
                log.info("%s: %d rows", purge.__name__, deleted)
        self._next_purge = time.monotonic() + (0.0 if left_over else PURGE_EVERY_S)
