"""Group commit: many requests' writes in one database transaction, one commit (one fsync) for all of them.

Why: on SQLite only one transaction writes at a time, and each commit waits for the disk (`synchronous=FULL`, so that an
accepted claim survives a power loss). With every request committing on its own, a festival burst queued its request
threads on SQLite's write lock: each held it through its own statements and its own fsync while the others slept in
SQLite's busy handler, and the claim route spent much of its time in that wait (docs/benchmarks.md). Here one writer thread takes every write waiting at that moment, runs each in a
SAVEPOINT of one transaction, commits once and only then hands each request its result: a request is still answered
only after what it wrote is on disk, so nothing accepted can be lost, and the writes of all waiting requests share one
lock hold and one fsync. Nothing waits to gather company: writes that arrive while a commit is under way form the next
group by themselves, so a lone request is as quick as before.

Each write is a function of the writer's connection (Core: a write here runs once per claim on a single thread, and
the ORM's per-statement work cost more than SQLite's, py-spy). It returns its result, or raises (a DomainError for
a refusal, IntegrityError for a row that another request made first): then only its savepoint is rolled back and the
exception is raised in the request that submitted it; the others' writes are unaffected. If the transaction itself
fails (the database locked past its timeout, a full disk), none of the group's writes is stored and each request gets
StorageUnavailable (the API's 503 with Retry-After: sending the same request again is safe).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from sqlalchemy import Connection, Engine

from backend.platform.batching import BatchWorker

log = logging.getLogger("kyoso.group_commit")

T = TypeVar("T")

# Writes in one transaction at most: enough for every request thread of the API (40) with room, few enough that one
# group's lock hold stays short for the relayer and the indexer, which write to the same database.
MAX_GROUP = 200

Write = Callable[[Connection], object]


class StorageUnavailable(RuntimeError):
    """Nothing of this write was stored: the group's transaction failed, or the writer has stopped."""


class GroupCommitter(BatchWorker[Write]):
    """`run(write)` runs `write(connection)` on the writer thread inside the next group's transaction and returns its
    result once that transaction is committed (or raises what the write, or the commit, raised)."""

    def __init__(self, engine: Engine, name: str = "kyoso-group-commit"):
        self._engine = engine
        super().__init__(name)

    def run(self, write: Callable[[Connection], T]) -> T:
        if self.stopped:
            raise StorageUnavailable("the writer has stopped")
        return self._submit(write)

    async def run_async(self, write: Callable[[Connection], T]) -> T:
        """`run` for a route on the event loop: awaits the group's commit instead of blocking a thread on it."""
        if self.stopped:
            raise StorageUnavailable("the writer has stopped")
        return await asyncio.wrap_future(self._enqueue(write))

    def _unserved(self) -> BaseException:
        return StorageUnavailable("the writer could not serve this write")

    def _fits(self, batch: list[tuple[Write, Future]], item: Write) -> bool:
        return len(batch) < MAX_GROUP

    def _serve(self, group: list[tuple[Write, Future]]) -> None:
        self._commit(group)

    def _commit(self, group: list[tuple[Write, Future]]) -> None:
        done: list[tuple[Future, object]] = []
        failed: list[tuple[Future, BaseException]] = []
        try:
            with self._engine.connect() as connection:
                try:
                    sqlite = connection.dialect.name == "sqlite"
                    if sqlite:
                        # The write lock from the start: the driver would otherwise begin the transaction lazily, and
                        # SQLite treats the RELEASE of a savepoint that opened the transaction as its COMMIT.
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                    for write, future in group:
                        try:
                            with connection.begin_nested():
                                result = write(connection)
                        except Exception as exc:  # noqa: BLE001 - the submitting request raises it
                            failed.append((future, exc))
                        else:
                            done.append((future, result))
                        if sqlite and not connection.connection.dbapi_connection.in_transaction:
                            # SQLite rolled the whole transaction back by itself (a full disk, an I/O error): the
                            # group's earlier writes are gone, and a later savepoint would commit on its own
                            raise StorageUnavailable("SQLite rolled the group's transaction back")
                    connection.commit()
                except Exception:
                    # SQLite keeps a transaction open after a failed COMMIT, while SQLAlchemy counts it as ended and
                    # would pool the connection as it is: the next user would see, and could commit, this group's
                    # writes. Closing the driver's connection takes them back.
                    connection.invalidate()
                    raise
        except Exception as exc:  # noqa: BLE001 - the transaction failed: nothing of this group is stored
            log.warning("group commit of %d writes failed: %s", len(group), exc)
            for future, _ in done:
                future.set_exception(StorageUnavailable(str(exc)))
            for future, error in failed:
                future.set_exception(error)
            for _write, future in group[len(done) + len(failed):]:  # not run: the transaction ended before them
                future.set_exception(StorageUnavailable(str(exc)))
            return
        for future, result in done:
            future.set_result(result)
        for future, error in failed:
            future.set_exception(error)
