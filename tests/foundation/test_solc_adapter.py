"""The solc-js adapter stands in for native solc: py-solc-x finds it, brownie compiles through it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import solcx

from tools.devstack.processes import strip_ansi

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "solidity"


@pytest.fixture(scope="module")
def adapter() -> Path:
    folder = Path(os.environ["SOLCX_BINARY_PATH"])
    (binary,) = folder.glob("solc-v*")
    return binary


def brownie_project(tmp_path: Path, project_root: Path, *sources: str) -> Path:
    """A throw-away brownie project with the real config and node_modules, holding the given fixtures."""
    shutil.copy(project_root / "brownie-config.yaml", tmp_path)
    (tmp_path / "node_modules").symlink_to(project_root / "node_modules")
    (tmp_path / "contracts").mkdir()
    for source in sources:
        shutil.copy(FIXTURES / source, tmp_path / "contracts")
    return tmp_path


def brownie_compile(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["brownie", "compile"], cwd=project, capture_output=True, text=True, timeout=300)


def test_version_is_in_the_native_format_py_solc_x_parses(adapter):
    out = subprocess.run([adapter, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("solc, the solidity compiler commandline interface\nVersion: 0.8.30+commit.")
    assert solcx.wrapper.get_solc_version(adapter, with_commit_hash=True).base_version == "0.8.30"


def test_py_solc_x_finds_the_adapter_through_solcx_binary_path():
    assert "0.8.30" in [str(v) for v in solcx.get_installed_solc_versions()]


def test_brownie_compiles_a_contract_that_imports_openzeppelin(tmp_path, project_root):
    project = brownie_project(tmp_path, project_root, "UsesOpenZeppelin.sol")
    result = brownie_compile(project)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("UsesOpenZeppelin", "VotesFixture"):
        artifact = json.loads((project / "build" / "contracts" / f"{name}.json").read_text())
        assert len(artifact["bytecode"]) > 1000
        assert any(item.get("name") == "delegate" for item in artifact["abi"]) == (name == "VotesFixture")
    assert "Solc version: 0.8.30" in result.stdout


def test_syntax_error_gives_brownies_compiler_error_not_a_crash(tmp_path, project_root):
    project = brownie_project(tmp_path, project_root, "SyntaxError.sol")
    result = brownie_compile(project)
    output = strip_ansi(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "CompilerError: solc returned the following errors" in output
    assert "ParserError: Expected ';' but got 'function'" in output
    assert "contracts/SyntaxError.sol:6:5" in output
    assert "Traceback" not in output and "JSONDecodeError" not in output


def standard_json(source: str, path: str = "Main.sol") -> str:
    return json.dumps(
        {
            "language": "Solidity",
            "sources": {path: {"content": source}},
            "settings": {
                "remappings": ["@openzeppelin=node_modules/@openzeppelin"],
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "metadata"]}},
            },
        }
    )


def test_large_output_reaches_a_pipe_complete(adapter, project_root):
    # Several MB of JSON: far beyond a pipe's buffer, which an asynchronous write followed by exit would cut short.
    source = (FIXTURES / "UsesOpenZeppelin.sol").read_text()
    result = subprocess.run(
        [adapter, "--standard-json", "--allow-paths", str(project_root)],
        input=standard_json(source), capture_output=True, text=True, cwd=project_root, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 1_000_000
    output = json.loads(result.stdout)
    assert not [e for e in output.get("errors", []) if e["severity"] == "error"]
    assert "VotesFixture" in output["contracts"]["Main.sol"]


def test_imports_outside_the_allowed_paths_are_refused(adapter, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Secret.sol").write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract S {}\n")
    base = tmp_path / "base"
    base.mkdir()
    source = f'// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\nimport "{outside}/Secret.sol";\n'
    result = subprocess.run(
        [adapter, "--standard-json", "--base-path", str(base), "--allow-paths", str(base)],
        input=standard_json(source), capture_output=True, text=True, cwd=base, timeout=120,
    )
    errors = [e["formattedMessage"] for e in json.loads(result.stdout)["errors"] if e["severity"] == "error"]
    assert any("outside of allowed directories" in e for e in errors), errors


def test_unsupported_options_are_refused_like_native_solc(adapter):
    result = subprocess.run([adapter, "--combined-json", "abi", "x.sol"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "unrecognised option '--combined-json'"
