"""No secret in any log line: the deployment layout (an API process without the relayer, the background worker with
it) on an RPC URL that carries a provider's credentials (userinfo and an API key in the query, as Alchemy, Infura and
others hand them out), through a working stretch and a node that stalls and then dies, so that every path that logs a
node error runs. Every line both processes wrote is read back: none shows the URL's credentials, the relayer's key,
an organization's issuer key, a member's key or the key-encryption key. The API process runs without the relayer's
key in its environment: it shows the relayer's address from KYOSO_RELAYER_ADDRESS."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
from eth_account import Account

from backend.platform.keys import KeyVault, SealedKey
from scripts.suite import deploy_registry
from tests.backend.conftest import event_body
from tests.helpers.claims import claim_statuses, claim_until_answered, event_on_chain
from tools.devstack.processes import Anvil, Backend, free_port, signup, verify

USER_SECRET = "u" + secrets.token_hex(12)
QUERY_SECRET = "k" + secrets.token_hex(16)


def sealed_keys(database: Path) -> list[tuple[str, bytes]]:
    """Every key the backend holds sealed in its database: the organizations' issuer keys and the members' keys."""
    with closing(sqlite3.connect(database)) as db:
        return (db.execute("SELECT issuer_address, issuer_key FROM organizations").fetchall()
                + db.execute("SELECT address, sealed FROM custodial_keys").fetchall())


def node_down(url: str) -> None:
    """Requests that need the node while it does not answer: 503, never a 500 (whose traceback would be logged)."""
    for path in ("/health", "/governance"):
        assert httpx.get(f"{url}{path}", timeout=30).status_code == 503, path
    assert httpx.get(f"{url}/treasury", timeout=30).status_code < 500


def test_no_log_line_shows_the_rpc_credentials_or_any_key(project_root, tmp_path):
    chain = Anvil(project_root, "--chain-id", "31337")
    relayer = Account.create()  # not a development key: its hex must appear nowhere
    kek = base64.b64encode(os.urandom(32)).decode()
    database = tmp_path / "kyoso.db"
    rpc_url = f"http://kyoso:{USER_SECRET}@127.0.0.1:{chain.port}/?apikey={QUERY_SECRET}"
    api = worker = None
    try:
        chain.w3.eth.send_transaction({"from": chain.w3.eth.accounts[0], "to": relayer.address, "value": 10**20})
        (tmp_path / "deployments").mkdir()
        (tmp_path / "deployments" / "31337.json").write_text(json.dumps(deploy_registry(chain.w3, relayer.address)))
        env = {k: v for k, v in os.environ.items() if k != "KYOSO_RELAYER_PRIVATE_KEY"}
        env.update({"KYOSO_ENVIRONMENT": "test", "DATABASE_URL": f"sqlite:///{database}", "RPC_URL": rpc_url,
                    "KYOSO_CHAIN_ID": "31337", "KYOSO_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
                    "KYOSO_PUBLIC_BASE_URL": "http://testserver", "KYOSO_KEY_ENCRYPTION_KEY": kek,
                    "KYOSO_RPC_TIMEOUT_S": "1"})
        with open(tmp_path / "api.log", "ab") as api_log, open(tmp_path / "worker.log", "ab") as worker_log:
            api = Backend(project_root, {**env, "KYOSO_RELAYER_ENABLED": "false", "KYOSO_INDEXER_ENABLED": "false",
                                         "KYOSO_RELAYER_ADDRESS": relayer.address}, free_port(), api_log)
            api_environment = Path(f"/proc/{api.proc.pid}/environ").read_bytes()
            worker = subprocess.Popen([sys.executable, "-m", "backend.worker"], cwd=project_root,
                                      env={**env, "KYOSO_RELAYER_PRIVATE_KEY": relayer.key.hex()},
                                      stdout=worker_log, stderr=subprocess.STDOUT)
            # the API never had the key, and knows the relayer by its address
            assert relayer.key.hex().removeprefix("0x").encode() not in api_environment
            assert httpx.get(f"{api.url}/health").json()["relayer_address"] == relayer.address

            # a working stretch: the relayer's key registers the organization, its issuer key creates the event and
            # issues a badge to a member's custodial wallet
            organizer = verify(api.url, signup(api.url), f"sqlite:///{database}", project_root)
            _org, event, _token, codes = event_on_chain(
                api.url, organizer, {"name_ja": "金沢市", "name_en": "Kanazawa City"}, event_body(points=3), 2,
                database_url=f"sqlite:///{database}", project_root=project_root)
            member = signup(api.url)
            claim = claim_until_answered([api.url], member, event["id"], codes[0], 30)
            assert claim_statuses(api.url, [member], [claim], timeout=60) == ["confirmed"]

            # the node stalls (timeouts), then dies (connection refused): requests that need it get 503, the worker
            # logs what failed
            chain.proc.send_signal(signal.SIGSTOP)
            late = signup(api.url)
            assert claim_until_answered([api.url], late, event["id"], codes[1], 30)  # accepted without the node
            node_down(api.url)
            time.sleep(3)
            chain.proc.send_signal(signal.SIGKILL)
            chain.proc.wait()
            node_down(api.url)
            time.sleep(4)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
            api.stop()

        logs = {name: (tmp_path / name).read_text(errors="replace") for name in ("api.log", "worker.log")}
        # the node's failures were logged, naming the node by its host only
        assert any("WARNING" in line and str(chain.port) in line for line in logs["worker.log"].splitlines()), \
            logs["worker.log"][-3000:]
        vault = KeyVault(kek)
        held = [vault.open(SealedKey(address, sealed)).key.hex().removeprefix("0x")
                for address, sealed in sealed_keys(database)]
        assert len(held) >= 3  # the organization's issuer key and two members' keys
        forbidden = {"the RPC URL's password": USER_SECRET, "the RPC URL's API key": QUERY_SECRET,
                     "the relayer's key": relayer.key.hex().removeprefix("0x"), "the key-encryption key": kek,
                     **{f"held key {i}": key for i, key in enumerate(held)}}
        for name, text in logs.items():
            assert text.strip(), f"{name} is empty"
            for what, secret in forbidden.items():
                assert secret not in text, f"{what} appears in {name}"
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        if api is not None:
            api.stop()
        chain.stop()
