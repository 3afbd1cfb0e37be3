"""schemathesis against every operation of the OpenAPI schema that the `make run` stack serves (on free ports), as a
member and as an organizer: no answer may be a server error, and every answer must be one the schema declares
(status code, content type, body schema). schemathesis has its own environment, .venv-fuzz (requirements/README.md),
and runs as a separate process. `make fuzz` runs it with more examples and a longer time budget.

The default budget keeps this test near 3 minutes on two cores, start-up of the stack included."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest

pytestmark = pytest.mark.stack

DEMO_PASSWORD = "kyoso-demo-2026"  # scripts/seed.py on the local chain
EXAMPLES = int(os.environ.get("KYOSO_FUZZ_EXAMPLES", "8"))
TIME_S = int(os.environ.get("KYOSO_FUZZ_TIME_S", "45"))  # per role
# The checks. Not run: `negative_data_rejection` and `positive_data_acceptance` judge whether the API's validation is
# exactly as strict as the schema; pydantic validators that a JSON schema cannot express (an address's checksum, the
# fields a proposal kind needs, a claim window after its start) make both report differences that are no bug.
# `use_after_free`, `ensure_resource_availability` and the authorization checks assume REST semantics
# (a DELETE removes the resource at that URL) that DELETE /api/me and /api/me/delegation do not have.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def token(stack, path: str, body: dict) -> str:
    status, answer = post(f"{stack.base}/api/auth/{path}", body)
    assert status in (200, 201), answer
    return answer["access_token"]


def schemathesis(project_root, stack, access_token: str, report_dir, seed: int) -> subprocess.CompletedProcess:
    binary = project_root / ".venv-fuzz" / "bin" / "schemathesis"
    assert binary.exists(), "no .venv-fuzz: `make fuzz` or `make test` installs it (requirements/README.md)"
    cmd = [
        str(binary), "run", f"{stack.base}/openapi.json",
        "--header", f"Authorization: Bearer {access_token}",
        "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--max-time", str(TIME_S), "--seed", str(seed),
        # one worker: the machine's two cores also run the chain, the relayer and the indexer
        "--workers", "1",
        # a sheet of 100 QR codes (the most one may hold) takes ~1 s to draw here, more while the stack is busy
        "--request-timeout", "60",
        "--report", "junit", "--report-dir", str(report_dir), "--no-color",
    ]
    return subprocess.run(cmd, cwd=report_dir, capture_output=True, text=True, timeout=TIME_S + 240)


@pytest.mark.parametrize("role", ["organizer", "member"])
def test_every_operation_survives_generated_requests(project_root, stack, role, tmp_path):
    if role == "organizer":  # owns the seeded organizations and events, so their routes get past 403
        access_token = token(stack, "login", {"email": "organizer@demo.kyoso.example", "password": DEMO_PASSWORD})
    else:  # a new member: signs up, as the app's attendees do, and logs in with the password chosen
        member = {"email": "fuzz-member@example.jp", "password": "fuzz-member-2026"}
        assert post(f"{stack.base}/api/auth/signup", member)[0] == 202
        access_token = token(stack, "login", member)
    result = schemathesis(project_root, stack, access_token, tmp_path, seed=8 if role == "organizer" else 9)
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found problems (exit {result.returncode}):\n{report}"
    with urllib.request.urlopen(f"{stack.base}/openapi.json", timeout=30) as response:
        operations = sum(len(methods) for methods in json.loads(response.read())["paths"].values())
    assert f"Operations:       {operations} selected / {operations} total" in report, report  # none left out
    server_log = stack.process.output
    assert "Traceback" not in server_log, server_log[-20000:]
