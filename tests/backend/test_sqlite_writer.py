"""The writer lock of backend/platform/sqlite_writer.py on a real SQLite file: a connection holds it from its first write
until its transaction ends, readers never take it, a failed COMMIT keeps it, and a writer that waits too long fails
as SQLite's own "database is locked" does."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.platform import sqlite_writer
from backend.platform.db import make_engine
from backend.platform.sqlite_writer import WriterLockedConnection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "kyoso.db"
    setup = sqlite3.connect(path)
    setup.executescript("PRAGMA journal_mode=WAL; CREATE TABLE seats (name TEXT PRIMARY KEY);"
                        "CREATE TABLE tickets (seat TEXT REFERENCES seats (name) DEFERRABLE INITIALLY DEFERRED);")
    setup.close()
    return path


def connect(path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, factory=WriterLockedConnection, timeout=30, check_same_thread=False)
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def lock_is_held(path) -> bool:
    """Whether some connection holds the writer lock (probed from a descriptor of our own)."""
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_a_writer_holds_the_lock_from_its_first_write_until_commit(database):
    writer = connect(database)
    writer.execute("SELECT count(*) FROM seats").fetchone()
    assert not lock_is_held(database)  # reading takes nothing
    writer.execute("INSERT INTO seats VALUES ('A1')")
    assert lock_is_held(database)
    writer.execute("INSERT INTO seats VALUES ('A2')")
    writer.commit()
    assert not lock_is_held(database)
    writer.execute("INSERT INTO seats VALUES ('A3')")
    writer.rollback()
    assert not lock_is_held(database)
    assert [r[0] for r in connect(database).execute("SELECT name FROM seats ORDER BY name")] == ["A1", "A2"]


def test_a_second_writer_waits_for_the_first_and_readers_do_not(database):
    first, second, reader = connect(database), connect(database), connect(database)
    first.execute("INSERT INTO seats VALUES ('B1')")
    wrote = threading.Event()

    def write_second():
        second.execute("INSERT INTO seats VALUES ('B2')")
        wrote.set()
        second.commit()

    thread = threading.Thread(target=write_second)
    thread.start()
    assert reader.execute("SELECT count(*) FROM seats").fetchone() == (0,)  # not blocked, sees the last commit
    assert not wrote.wait(0.5)  # the second writer is still queued behind the first
    first.commit()
    thread.join(10)
    assert wrote.is_set()
    assert [r[0] for r in reader.execute("SELECT name FROM seats ORDER BY name")] == ["B1", "B2"]


def test_a_failed_commit_keeps_the_lock_until_the_rollback(database):
    writer = connect(database)
    writer.execute("INSERT INTO tickets VALUES ('nowhere')")  # checked at COMMIT: no such seat
    with pytest.raises(sqlite3.IntegrityError):
        writer.commit()
    assert writer.in_transaction and lock_is_held(database)  # SQLite's write lock is still held too
    writer.rollback()
    assert not lock_is_held(database)


def test_a_writer_that_waits_past_the_timeout_fails_as_a_locked_database(database, monkeypatch):
    monkeypatch.setattr(sqlite_writer, "LOCK_TIMEOUT_S", 0.2)
    holder, late = connect(database), connect(database)
    holder.execute("INSERT INTO seats VALUES ('C1')")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        late.execute("INSERT INTO seats VALUES ('C2')")
    holder.commit()
    late.execute("INSERT INTO seats VALUES ('C2')")
    late.commit()


def test_the_engine_of_a_database_file_uses_it(database):
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO seats VALUES ('D1')"))
        assert lock_is_held(database)
        connection.commit()
        assert not lock_is_held(database)
    engine.dispose()


def test_processes_starting_together_on_a_new_database_file_all_come_up(tmp_path):
    """`make run` starts the background worker and the API at once: both migrate, one after the other."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    start = f"from backend.platform.db import make_engine, migrate\nmigrate(make_engine({url!r}))\nprint('migrated')"
    processes = [subprocess.Popen([sys.executable, "-c", start], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
