"""One `make run` stack (Anvil, deploy, seed, API on free ports) for the fuzz and hostile-HTTP tests."""

from __future__ import annotations

import pytest

from tools.devstack.processes import running_stack


@pytest.fixture(scope="package")
def stack(project_root, tmp_path_factory):
    with running_stack(project_root, tmp_path_factory.mktemp("stack")) as running:
        yield running
