"""The deployment layout of docs/backend.md: API processes with the relayer and the indexer off, and the background
worker (`python -m backend.worker`) running them in a process of its own, on one SQLite file. Claims accepted by the
API are confirmed by the worker; the API process never takes the relayer's lease; SIGTERM stops the worker cleanly
and a worker started again takes up what was accepted meanwhile."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, func, select

from backend.platform.models import ServiceLease
from scripts.suite import deploy_registry
from tests.backend.conftest import event_body
from tests.helpers.claims import claim_statuses, claim_until_answered, event_on_chain
from tools.devstack.processes import Anvil, Backend, free_port, signup

RELAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ATTENDEES = 12


def lease_holder_pid(engine, name: str) -> int | None:
    with engine.connect() as db:
        holder = db.scalar(select(ServiceLease.holder).where(ServiceLease.name == name,
                                                             ServiceLease.expires_at > func.now()))
    return int(holder.split(":")[1]) if holder else None


def start_worker(project_root, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backend.worker"], cwd=project_root, env={**env},
                            stdout=log, stderr=subprocess.STDOUT)


def test_a_worker_process_confirms_what_api_processes_without_services_accept(project_root, tmp_path):
    import os

    chain = Anvil(project_root, "--chain-id", "31337")
    database = tmp_path / "kyoso.db"
    engine = create_engine(f"sqlite:///{database}")
    api = worker = None
    try:
        (tmp_path / "deployments").mkdir()
        (tmp_path / "deployments" / "31337.json").write_text(json.dumps(deploy_registry(chain.w3, RELAYER)))
        env = {**os.environ, "KYOSO_ENVIRONMENT": "test", "DATABASE_URL": f"sqlite:///{database}",
               "RPC_URL": chain.url, "KYOSO_CHAIN_ID": "31337",
               "KYOSO_DEPLOYMENTS_DIR": str(tmp_path / "deployments"), "KYOSO_PUBLIC_BASE_URL": "http://testserver"}
        with open(tmp_path / "api.log", "ab") as api_log, open(tmp_path / "worker.log", "ab") as worker_log:
            api = Backend(project_root, {**env, "KYOSO_RELAYER_ENABLED": "false", "KYOSO_INDEXER_ENABLED": "false"},
                          free_port(), api_log)
            worker = start_worker(project_root, env, worker_log)
            organizer = signup(api.url)
            _org, event, _token, secrets = event_on_chain(  # created on chain by the worker's relayer
                api.url, organizer, {"name_ja": "金沢学生ボランティア", "name_en": "Kanazawa Student Volunteers"},
                event_body(points=2), ATTENDEES + 1, database_url=f"sqlite:///{database}", project_root=project_root)
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert lease_holder_pid(engine, "relayer") == worker.pid
            assert lease_holder_pid(engine, "indexer") == worker.pid
            with ThreadPoolExecutor(4) as pool:
                members = list(pool.map(lambda _: signup(api.url), range(ATTENDEES + 1)))
                claim_ids = list(pool.map(lambda i: claim_until_answered([api.url], members[i], event["id"],
                                                                         secrets[i], 60), range(ATTENDEES)))
            assert claim_statuses(api.url, members, claim_ids, timeout=60) == ["confirmed"] * ATTENDEES
            # points and badges reach members' pages through the worker's indexer
            assert httpx.get(f"{api.url}/me/wallet", headers=members[0]).json()["points"] == 2

            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
            late = claim_until_answered([api.url], members[-1], event["id"], secrets[-1], 60)
            time.sleep(2)  # nobody relays now: the claim stays accepted, stored
            assert claim_statuses(api.url, members[-1:], [late], timeout=0) == ["accepted"]
            worker = start_worker(project_root, env, worker_log)
            assert claim_statuses(api.url, members[-1:], [late], timeout=60) == ["confirmed"]
    finally:
        for process in (worker,):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        if api is not None:
            api.stop()
        engine.dispose()
        chain.stop()
