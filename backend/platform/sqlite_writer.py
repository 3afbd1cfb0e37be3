"""One writer at a time on a SQLite file, queued in a file lock instead of in SQLite's busy handler.

Why: SQLite lets one connection write at a time. A connection that finds the write lock taken sleeps in SQLite's busy
handler, whose sleeps grow to 25-100 ms after a few tries. With the API's group committers (one per worker process)
committing back to back during a festival burst, the relayer's and the indexer's writes, and a second worker's
groups, slept through one free moment after another, and claims waited seconds to be accepted and confirmed
(docs/benchmarks.md).

Here every connection of the engine (backend/platform/db.py) takes an exclusive `flock` on `<database>-writer.lock`
before its first writing statement and gives it back when its transaction ends, so waiting writers, in any thread or
process of Kyoso, ask again every LOCK_RETRY_S: the lock changes hands within a fraction of a millisecond. SQLite's
own lock is still there underneath (and its busy timeout, for any other program writing to the file); by the time a
Kyoso connection asks SQLite for it, no other Kyoso connection holds it.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import time

LOCK_RETRY_S = 0.0005
# As long as SQLite's own busy timeout (backend/platform/db.py): past it the statement fails as SQLite's would.
LOCK_TIMEOUT_S = 30.0
# Statements that take SQLite's write lock (SQLAlchemy's DML and DDL, and an explicit BEGIN IMMEDIATE); a SAVEPOINT or
# a plain BEGIN takes it only at the first write, which is one of these.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|BEGIN\s+(IMMEDIATE|EXCLUSIVE))\b",
                     re.IGNORECASE)


class WriterLockedConnection(sqlite3.Connection):
    """`sqlite3.connect(path, factory=WriterLockedConnection)`."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._lock_fd = os.open(f"{os.fspath(database)}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._writing = False

    def cursor(self, factory=None):
        return super().cursor(factory or WriterLockedCursor)

    # the driver's shortcuts make their cursor in C, past `cursor()` above
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script, /):
        return self.cursor().executescript(sql_script)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_if_done()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_if_done()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1

    def _before(self, sql: str) -> None:
        if not self._writing and _WRITES.match(sql):
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise sqlite3.OperationalError("database is locked (waited for Kyoso's writer lock)") from None
                    time.sleep(LOCK_RETRY_S)
            self._writing = True

    def _release_if_done(self) -> None:
        # a failed COMMIT leaves SQLite's transaction open (and its write lock held): then so is this one
        if self._writing and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        if self._writing:
            self._writing = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)


class WriterLockedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection._before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection._release_if_done()

    def executemany(self, sql, seq_of_parameters, /):
        self.connection._before(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection._release_if_done()

    def executescript(self, sql_script, /):
        self.connection._before("BEGIN IMMEDIATE")  # a script may write anywhere in it
        try:
            return super().executescript(sql_script)
        finally:
            self.connection._release_if_done()
