"""The layout's rules: imports run one way (tools/check_imports.py), and migrations are listed in the order they run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.check_imports import one_per_line_and_rule, violations

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "backend" / "migrations" / "versions"


def test_the_backend_imports_run_one_way():
    result = subprocess.run([sys.executable, "tools/check_imports.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "imports run one way"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(("files", "rule"), [
    ({"backend/platform/db.py": "from backend.claims.models import Claim\n",
      "backend/claims/models.py": ""}, "platform"),
    ({"backend/claims/service.py": "def f():\n    from backend.web import pages\n",  # hidden inside a function
      "backend/web/pages.py": ""}, "layers"),
    ({"backend/claims/router.py": "from backend.events.router import kiosk_code\n",
      "backend/events/router.py": ""}, "routers"),
    ({"backend/claims/router.py": "from backend.events import router\n",
      "backend/events/router.py": ""}, "routers"),
    ({"backend/relayer/loop.py": "from backend.api.deps import SessionDep\n",
      "backend/api/deps.py": ""}, "layers"),
    ({"backend/governance/votes.py": "from backend.relayer import timing\n",
      "backend/relayer/timing.py": ""}, "domains"),
    ({"backend/i18n/catalogs.py": "from backend.platform.config import Settings\n",
      "backend/platform/config.py": ""}, "i18n"),
    ({"bench/stack.py": "from tests.helpers.processes import free_port\n",
      "tests/helpers/processes.py": ""}, "tests"),
])
def test_the_checker_names_each_kind_of_wrong_import(tmp_path, files, rule):
    found = one_per_line_and_rule(violations(_tree(tmp_path, files)))
    assert len(found) == 1 and f": {rule}: " in found[0], found


def test_the_checker_accepts_imports_that_run_one_way(tmp_path):
    tree = _tree(tmp_path, {
        "backend/platform/db.py": "import sqlalchemy\n",
        "backend/claims/service.py": "from backend.events import service\nfrom backend.platform import db\n",
        "backend/claims/router.py": "from backend.claims import service\n",
        "backend/events/service.py": "from backend.platform.db import x\n",
        "backend/api/main.py": "from backend.claims import router\n",
        "backend/web/pages.py": "from backend.claims.service import accept_claim\n",
        "backend/relayer/loop.py": "from backend.claims import service\n",
    })
    assert list(violations(tree)) == []


def _revision(path: Path, name: str) -> str | None:
    found = re.search(rf"^{name} = ['\"]?([0-9a-f]+|None)['\"]?$", path.read_text(), re.M)
    return None if found is None or found.group(1) == "None" else found.group(1)


def test_migration_file_names_sort_in_the_order_the_migrations_run():
    files = sorted(MIGRATIONS.glob("*.py"))
    assert files and all(re.match(r"\d{4}_\d{2}_\d{2}_\d{4}_[0-9a-f]{12}_\w+\.py$", f.name) for f in files), files
    previous = None
    for path in files:
        assert _revision(path, "down_revision") == previous, f"{path.name} does not follow {previous}"
        previous = _revision(path, "revision")
