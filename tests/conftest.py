"""Shared fixtures. Tests run through `make test`, which starts brownie's `kyoso-test` network (Anvil on 8546)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.brownie_settings import apply_gas_policy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def gas_within_the_eip7825_cap():
    apply_gas_policy()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
