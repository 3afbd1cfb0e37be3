"""The Python environment is exactly the lock, and its only dependency conflict is the documented override."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata


def lock_pins(project_root) -> dict[str, str]:
    pins = {}
    for line in (project_root / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_installed_packages_match_the_lock(project_root):
    pins = lock_pins(project_root)
    installed = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version for d in metadata.distributions()}
    mismatched = {name: (version, installed.get(name)) for name, version in pins.items() if installed.get(name) != version}
    assert mismatched == {}
    assert pins["eth-brownie"] == "1.22.2" and pins["web3"] == "7.16.0"


def test_pip_check_reports_only_the_override_the_readme_explains(project_root):
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    conflicts = [line for line in result.stdout.splitlines() if line.strip()]
    assert conflicts == [
        "eth-brownie 1.22.2 has requirement python-dotenv==0.16.0, but you have python-dotenv 1.2.4."
    ]
    readme = (project_root / "README.md").read_text()
    assert conflicts[0] in readme
