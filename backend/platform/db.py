"""Database engine and sessions (SQLite by default; any SQLAlchemy URL in DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.platform.sqlite_writer import WriterLockedConnection

# Kept open: every thread that can hold a connection at once (the API's 40 request threads, the group committer, the
# relayer, the indexer and their leases). An overflow connection is closed when it is given back, and opening one
# runs the pragmas below, so a smaller pool made a festival burst open and close connections all the time
# (docs/benchmarks.md).
SQLITE_POOL_SIZE = 48
SQLITE_POOL_OVERFLOW = 48


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        # More pooled connections than threads that can hold one (the API's thread pool of 40, the relayer, the
        # indexer): with fewer, a burst of requests can take every connection while the sessions that would give one
        # back wait for a free thread to close them (QueuePool timeouts under load).
        # No pre-ping: a file database does not drop connections the way a server does, and the ping is a round trip
        # per checkout on the hot path.
        connect_args = {"timeout": 30, "check_same_thread": False}
        if parsed.database not in (None, "", ":memory:"):
            # writers queue in a file lock, not in SQLite's busy handler (backend/platform/sqlite_writer.py)
            connect_args["factory"] = WriterLockedConnection
        engine = create_engine(url, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW,
                               connect_args=connect_args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets readers work while the relayer writes; foreign keys are off by default in SQLite
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: every commit is on disk before the answer, so an accepted claim survives a power loss or an
            # operating-system crash too, not only a killed process. NORMAL (an fsync per checkpoint only) measured
            # no faster in the festival burst, whose bound is CPU, not the ~3 ms fsync (docs/benchmarks.md).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # As many connections as the API's thread pool (40) can use at once, so that a burst waits on the database, not
    # on the pool; the server's max_connections must allow that per process (PostgreSQL's default of 100: two).
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)


MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def migrate(engine: Engine) -> None:
    """Brings the schema to the latest migration (the app does this on start)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes starting at once on one database: one migrates, the others wait for it (the lock
            # ends with the transaction).
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('kyoso-migrations'))"))
        elif connection.dialect.name == "sqlite":
            # the same on SQLite (`make run` starts the worker and the API together): the write lock before the
            # schema version is read, so the second process finds the schema at head
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def iter_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


def database_is_up(session: Session) -> bool:
    try:
        session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable", which /health reports
        return False
