"""Service tests: the rules of each domain against a real, migrated SQLite database, with no chain and no HTTP.

They call the services as the routers, the relayer and the indexer do (keyword-only arguments) and assert the domain
errors' codes and parameters, or what was stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from backend.claims import service as claims
from backend.claims.models import ClaimMethod
from backend.platform.db import make_engine, migrate, session_factory
from backend.platform.group_commit import GroupCommitter

IP = "203.0.113.7"
EXPLORER = "https://explorer.example/tx/{hash}"


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kyoso.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def writes(engine):
    """The claim route's group commit (backend/platform/group_commit.py), on the test's database."""
    committer = GroupCommitter(engine)
    yield committer
    committer.stop()


@pytest.fixture
def claim(engine, writes):
    """Claims as the route does: a session of its own for each request, closed by the service."""
    sessions = session_factory(engine)

    def claim(user, event, secret: str, method: ClaimMethod = ClaimMethod.code, ip: str = IP):
        return asyncio.run(claims.accept_claim(session=sessions(), writes=writes, user=user, event_id=event.id,
                                               method=method, secret=secret, client_ip=ip, explorer_tx_url=EXPLORER))
    return claim
