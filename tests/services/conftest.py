"""Service tests: the rules of each domain against a real, migrated SQLite database, with no chain and no HTTP.

They call the services as the routers, the relayer and the indexer do (keyword-only arguments) and assert the domain
errors' codes and parameters, or what was stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from backend.platform.db import make_engine, migrate, session_factory


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
