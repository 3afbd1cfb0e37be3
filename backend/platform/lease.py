"""A lease in the database: of several backend processes sharing one database, exactly one runs the relayer (and one
the indexer) at a time, and another takes over within seconds when that one dies.

Why a lease row and not an advisory lock: it works on SQLite and PostgreSQL alike, it needs no connection held open
for as long as the lease lasts (a killed process's lease simply runs out), and the holder is visible in the table
for an operator (`SELECT * FROM service_leases`). Durations: below.

What the lease cannot promise alone: a holder that is frozen past its expiry (a stopped VM) and then wakes up may
finish the step it was in while the new holder starts. Nothing is duplicated even then: a transaction's nonce is
unique per sender in `outbound_txs`, so only one of two competing signed transactions can be stored, and the badge
contract refuses a badge its holder already has.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from backend.platform.models import ServiceLease
from backend.platform.orm import utcnow

# Several backend processes may share one database (PostgreSQL): exactly one of them runs the relayer and one the
# indexer, by a lease row. The holder renews it every LEASE_RENEW_EVERY_S; if it dies, the
# lease runs out after LEASE_TTL_S and another process takes over, checking every LEASE_RETRY_S. A few seconds
# without a relayer only delays confirmations; claims are still accepted by every process.
LEASE_TTL_S = 5.0
LEASE_RENEW_EVERY_S = 1.0
LEASE_RETRY_S = 1.0


def holder_id() -> str:
    """Names this process for operators: host, process id, and a random part (a restarted process is new)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, sessions: sessionmaker[Session], name: str, holder: str | None = None,
                 ttl_s: float = LEASE_TTL_S, renew_every_s: float = LEASE_RENEW_EVERY_S):
        self.sessions = sessions
        self.name = name
        self.holder = holder or holder_id()
        self.ttl = timedelta(seconds=ttl_s)
        self.renew_every_s = renew_every_s
        self._held_until_monotonic = 0.0  # our own view: held, without asking the database, until then
        self._renewed_at = 0.0

    @property
    def held(self) -> bool:
        return time.monotonic() < self._held_until_monotonic

    def hold(self) -> bool:
        """True while this process holds the lease: renews it when due, takes it when it is free or has run out."""
        now_mono = time.monotonic()
        if self.held and now_mono - self._renewed_at < self.renew_every_s:
            return True
        now = utcnow()
        expires = now + self.ttl
        with self.sessions.begin() as session:
            taken = session.execute(
                update(ServiceLease)
                .where(ServiceLease.name == self.name,
                       (ServiceLease.holder == self.holder) | (ServiceLease.expires_at < now))
                .values(holder=self.holder, expires_at=expires)
            ).rowcount == 1
            if not taken and session.scalar(select(ServiceLease.name).where(ServiceLease.name == self.name)) is None:
                try:
                    with session.begin_nested():
                        session.execute(insert(ServiceLease).values(name=self.name, holder=self.holder,
                                                                    expires_at=expires))
                    taken = True
                except IntegrityError:  # another process created it first: it holds the lease
                    taken = False
        if taken:
            # A margin under the stored expiry: our clock says "still held" only while the row surely says so too.
            self._held_until_monotonic = now_mono + self.ttl.total_seconds() - self.renew_every_s
            self._renewed_at = now_mono
        else:
            self._held_until_monotonic = 0.0
        return taken

    def release(self) -> None:
        """Gives the lease up at a clean stop, so another process need not wait for it to run out."""
        if not self.held:
            return
        self._held_until_monotonic = 0.0
        with self.sessions.begin() as session:
            session.execute(update(ServiceLease)
                            .where(ServiceLease.name == self.name, ServiceLease.holder == self.holder)
                            .values(expires_at=utcnow()))
