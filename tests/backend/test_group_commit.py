"""The group committer (backend/platform/group_commit.py) on a real SQLite file: writes that wait together share one
transaction and one commit, each gets its own result, and a write that fails takes back only what it wrote."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from backend.platform.db import make_engine
from backend.platform.group_commit import GroupCommitter, StorageUnavailable


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'group.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE seats (name TEXT PRIMARY KEY)")
        # checked at COMMIT, not at the INSERT: a way to make a group's transaction itself fail
        connection.exec_driver_sql("CREATE TABLE tickets (seat TEXT REFERENCES seats (name) DEFERRABLE INITIALLY "
                                   "DEFERRED)")
    yield engine
    engine.dispose()


@pytest.fixture
def committer(engine):
    committer = GroupCommitter(engine)
    yield committer
    committer.stop()


def seat(name: str):
    def write(connection):
        connection.execute(text("INSERT INTO seats (name) VALUES (:name)"), {"name": name})
        return name
    return write


def refused_after_writing(name: str):
    def write(connection):
        seat(name)(connection)
        raise ValueError(f"{name} refused")
    return write


def dangling_ticket(connection):
    connection.execute(text("INSERT INTO tickets (seat) VALUES ('nowhere')"))
    return "ticket"


def stored(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(row[0] for row in connection.exec_driver_sql("SELECT name FROM seats"))


def in_one_group(committer, engine, writes) -> tuple[list, int]:
    """Submits `writes` while the writer is held by one other write, so that they all wait and then commit as one
    group; returns each write's result (or the exception it raised) and the number of commits made meanwhile."""
    commits = []

    def count(_connection):
        commits.append(1)

    event.listen(engine, "commit", count)
    entered, release = threading.Event(), threading.Event()

    def gate(_connection):
        entered.set()
        release.wait(10)

    def outcome(write):
        try:
            return committer.run(write)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            return exc

    with ThreadPoolExecutor(len(writes) + 1) as pool:
        held = pool.submit(committer.run, gate)
        assert entered.wait(10)
        futures = [pool.submit(outcome, write) for write in writes]
        deadline = time.monotonic() + 10
        while committer._queue.qsize() < len(writes) and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()
        held.result(10)
        results = [f.result(10) for f in futures]
    event.remove(engine, "commit", count)
    return results, len(commits)


def test_writes_waiting_together_share_one_commit(committer, engine):
    names = [f"seat-{i}" for i in range(10)]
    results, commits = in_one_group(committer, engine, [seat(n) for n in names])
    assert results == names
    assert stored(engine) == sorted(names)
    assert commits == 2  # the holding write's group, then all ten together


def test_a_failing_write_takes_back_only_what_it_wrote(committer, engine):
    results, commits = in_one_group(committer, engine,
                                    [seat("a"), refused_after_writing("b"), seat("c"), seat("a")])
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], ValueError) and str(results[1]) == "b refused"
    assert isinstance(results[3], IntegrityError)  # the same seat twice: the first one has it
    assert stored(engine) == ["a", "c"]
    assert commits == 2


def test_a_lone_write_is_committed_before_run_returns(committer, engine):
    assert committer.run(seat("solo")) == "solo"
    assert stored(engine) == ["solo"]


def test_when_the_transaction_fails_nothing_of_the_group_is_stored(committer, engine):
    results, _ = in_one_group(committer, engine, [seat("x"), dangling_ticket, refused_after_writing("y"), seat("z")])
    assert [type(r) for r in results] == [StorageUnavailable, StorageUnavailable, ValueError, StorageUnavailable]
    assert stored(engine) == []
    assert committer.run(seat("after")) == "after"  # the writer goes on with the next group


def test_a_write_after_stop_is_refused_not_left_waiting(committer):
    committer.stop()
    with pytest.raises(StorageUnavailable):
        committer.run(seat("late"))


def test_a_write_whose_waiter_was_cancelled_leaves_the_writer_serving_the_others(committer, engine):
    """A request cancelled while its write waits (its task cancelled, e.g. at shutdown): that write is dropped, and
    the writer goes on; it once died on the cancelled future and left every later claim waiting."""
    entered, release = threading.Event(), threading.Event()

    def held(connection):
        entered.set()
        release.wait(10)
        return seat("A1")(connection)

    async def cancel_one_waiting_write():
        waiting = asyncio.ensure_future(committer.run_async(seat("A2")))
        await asyncio.sleep(0.1)  # queued behind the held write
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(committer.run, held)
        assert entered.wait(10)
        asyncio.run(cancel_one_waiting_write())
        release.set()
        assert first.result(10) == "A1"
    assert committer.run(seat("A3")) == "A3"
    assert stored(engine) == ["A1", "A3"]


def rolled_back_by_sqlite(connection):
    """What SQLite does on a full disk or an I/O error in the middle of a statement: it ends the whole transaction."""
    connection.exec_driver_sql("ROLLBACK")
    raise OperationalError("INSERT", {}, Exception("database or disk is full"))


def test_when_sqlite_rolls_the_transaction_back_no_write_of_the_group_is_reported_stored(committer, engine):
    results, _ = in_one_group(committer, engine, [seat("p"), rolled_back_by_sqlite, seat("q")])
    assert [type(r) for r in results] == [StorageUnavailable, OperationalError, StorageUnavailable]
    assert stored(engine) == []
    assert committer.run(seat("after")) == "after"
