"""`make run`: the whole local stack comes up, answers /health, keeps its chain, and Ctrl-C stops all of it."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from tools.devstack.processes import Captured, free_port, is_listening

pytestmark = pytest.mark.stack

READY = "Kyoso is running"
START_TIMEOUT_S = 120


@pytest.fixture
def stack_env(tmp_path):
    return {
        "KYOSO_CHAIN_PORT": str(free_port()),
        "KYOSO_API_PORT": str(free_port()),
        "KYOSO_DATA_DIR": str(tmp_path / "data"),
    }


def start_stack(project_root, env) -> Captured:
    return Captured(["make", "--no-print-directory", "run"], cwd=project_root, env=env)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def rpc(port: str, method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["result"]


def test_health_reports_anvil_chain_and_ctrl_c_leaves_nothing_listening(project_root, stack_env):
    stack = start_stack(project_root, stack_env)
    try:
        stack.wait_for_output(READY, START_TIMEOUT_S)
        health = get_json(f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/api/health")
        assert health["status"] == "ok", health
        assert health["chain_id"] == 31337
        assert isinstance(health["block_number"], int) and health["block_number"] >= 0
        assert health["database"] == "ok" and health["database_backend"] == "sqlite"
        assert set(health["contracts"]) == {
            "ParticipationBadges", "ParticipationPoints", "KyosoTimelock", "KyosoGovernor",
        }
        assert f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/docs" in stack.output
        assert "Launching 'anvil" not in stack.output, "the deploy step started a second chain"
        assert "Demo community seeded: 3 organizations, 5 events (chain 31337)." in stack.output
        events = get_json(f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/api/events")
        assert "鼓門まわり クリーンアップ" in [e["title_ja"] for e in events]
        seeded_at = time.monotonic()  # the seed printed its message just before READY
        proposals = get_json(f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/api/proposals")
        assert [p["title_en"] for p in proposals] == ["Fund the Higashi Chaya clean-up kit — 0.5 ETH"]
        treasury = get_json(f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/api/treasury")
        assert treasury["balances"][0]["balance"] == "5"
        # The README's promise, with nobody touching the chain: the proposal opens for voting a minute after start-up
        # (its voting delay), because the chain makes blocks on its own, as a public chain does.
        proposal = f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/api/proposals/{proposals[0]['id']}"
        states = [get_json(proposal)["state"]]
        while states[-1] != "active" and time.monotonic() < seeded_at + 70:
            time.sleep(2)
            states.append(get_json(proposal)["state"])
        assert states[-1] == "active", states
        stack.ctrl_c()
    finally:
        stack.kill()
    assert not is_listening(int(stack_env["KYOSO_CHAIN_PORT"])), "Anvil still listening after Ctrl-C"
    assert not is_listening(int(stack_env["KYOSO_API_PORT"])), "API still listening after Ctrl-C"


def test_chain_state_is_kept_across_restarts_and_fresh_starts_anew(project_root, stack_env):
    port = stack_env["KYOSO_CHAIN_PORT"]
    api = f"http://127.0.0.1:{stack_env['KYOSO_API_PORT']}/api/health"
    stack = start_stack(project_root, stack_env)
    try:
        stack.wait_for_output(READY, START_TIMEOUT_S)
        rpc(port, "anvil_mine", [hex(1000)])  # far more blocks than a fresh start makes before it is ready
        first = get_json(api)
        mined_to, first_contracts = first["block_number"], first["contracts"]
        assert mined_to >= 1000
        stack.ctrl_c()
    finally:
        stack.kill()

    stack = start_stack(project_root, stack_env)
    try:
        stack.wait_for_output(READY, START_TIMEOUT_S)
        health = get_json(api)
        assert health["block_number"] >= mined_to
        assert health["contracts"] == first_contracts  # the chain kept them: nothing was deployed again
        assert "already deployed" in stack.output
        assert "Demo community already there" in stack.output
        stack.ctrl_c()
    finally:
        stack.kill()

    stack = start_stack(project_root, {**stack_env, "FRESH": "1"})
    try:
        stack.wait_for_output(READY, START_TIMEOUT_S)
        assert get_json(api)["block_number"] < mined_to
        assert "Kyoso deployed on chain 31337" in stack.output
        stack.ctrl_c()
    finally:
        stack.kill()


@pytest.mark.parametrize("busy", ["KYOSO_CHAIN_PORT", "KYOSO_API_PORT"])
def test_port_in_use_gives_a_clear_message_not_a_traceback(project_root, stack_env, busy):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(stack_env[busy])))
        blocker.listen()
        stack = start_stack(project_root, stack_env)
        try:
            code = stack.proc.wait(timeout=60)
            stack.wait_for_output("already in use", 5)
        finally:
            stack.kill()
    assert code != 0
    assert f"Port {stack_env[busy]}" in stack.output
    assert busy in stack.output  # tells how to pick another port
    assert "Traceback" not in stack.output
