"""Shared set-up of the end-to-end benchmarks (bench/burst.py, bench/votes.py, bench/reads.py).

Each run gets everything of its own, so it never touches `make run` (8545) or the tests' brownie network (8546):
an Anvil on a free loopback port with `make run`'s settings (tools/run_stack.py), the suite deployed with plain web3
(scripts/suite.py), a new SQLite database migrated to head, and the backend as a real uvicorn process
(as tools/run_stack.py starts it). Set-up that would otherwise dominate the run is done directly in the database
with the backend's own code: members (custodial key from the key vault, access token as auth.issue_token makes it,
no password: argon2 would take ~10,000 x 50 ms) are created before the server starts. What is measured then goes
over HTTP, from a load generator in a separate process (bench/load.py).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import func, select
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.platform.config import DEV_KEY_ENCRYPTION_KEY  # noqa: E402
from backend.platform.db import make_engine, migrate, session_factory  # noqa: E402
from backend.platform.keys import KeyVault  # noqa: E402
from backend.platform.security import TOKEN_BYTES, new_secret, secret_hash  # noqa: E402
from backend.accounts.models import AccessToken, CustodialKey, User, WalletKind  # noqa: E402
from backend.organizations.models import Organization  # noqa: E402
from backend.platform.models import OutboundTx, TxStatus  # noqa: E402
from scripts.suite import BUILD, GovernanceSettings, deploy_registry  # noqa: E402
from tools.devstack.processes import Captured, free_port, wait_for  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHAIN_ID = 31337
RELAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # Anvil dev account 1, the backend's default relayer key
READY_TIMEOUT_S = 60


def process_tree_cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) process `pid` and the processes under it have used so far (a running
    child's time is not in its parent's: uvicorn's `--workers` are children)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    family, grew = {pid}, True
    while grew:
        more = {p for p, fields in stats.items() if int(fields[1]) in family} - family
        family |= more
        grew = bool(more)
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in family if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def answers_200(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    return wait_for(predicate, timeout=timeout, interval=interval, what=what)


def stop_on_signals() -> None:
    """SIGTERM (and SIGINT, which a shell ignores for background jobs) end a benchmark through its `with Stack()`
    blocks, so that its Anvil and backend are stopped too."""
    def _stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def ensure_compiled() -> None:
    """The web3 deploy reads brownie's build/contracts; compile once if a fresh checkout has none."""
    if not (BUILD / "ParticipationBadges.json").exists():
        subprocess.run([sys.executable, "-c", "from brownie import project; project.load('.', name='Kyoso')"],
                       cwd=ROOT, check=True)


class Chain:
    """Anvil on a free port with `make run`'s flags (30M block gas, EIP-7825 cap, base fee 0); `block_time` gives
    interval mining, which `make run` has since issue #19 (a block every 2 s; the burst's `interval2s` run). Without
    it the chain mines a block per transaction, the backend's own ceiling with the chain out of the way."""

    def __init__(self, block_time: float | None = None):
        self.port = free_port()
        cmd = [str(ROOT / ".bin" / "anvil"), "--host", "127.0.0.1", "--port", str(self.port), "--chain-id",
               str(CHAIN_ID), "--gas-limit", "30000000", "--enable-tx-gas-limit", "--accounts", "10",
               "--block-base-fee-per-gas", "0", "--silent"]
        if block_time:
            cmd += ["--block-time", str(block_time)]
        self.proc = Captured(cmd, ROOT, {})
        self.url = f"http://127.0.0.1:{self.port}"
        self.w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))
        wait_until(self.w3.is_connected, READY_TIMEOUT_S, "Anvil")

    def travel(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])

    def stop(self) -> None:
        self.proc.kill()


@dataclass
class Member:
    user_id: int
    address: str
    token: str


class Stack:
    """Chain + deployed suite + database + backend. Members are created (`add_members`) before `start()`."""

    def __init__(self, block_time: float | None = None, naive_relayer: bool = False, workdir: Path | None = None,
                 indexer: bool = True, workers: int = 1, database: str = "sqlite", worker_process: bool = True,
                 worker_module: str | None = None, governance: GovernanceSettings | None = None):
        """`workers`: uvicorn processes on the one port (`--workers`); one of them holds the relayer's and the
        indexer's lease (backend/platform/lease.py). `worker_process` (the default, as `make run`): the relayer and the
        indexer run in the background worker (`python -m backend.worker`), the API processes with both off
        (docs/backend.md "Deployment layout"); False: all in the API process, as before that layout. `database`:
        "sqlite" (a file, as `make run`) or "postgres" (a server of the run's own, tools/devstack/postgres.py).
        `naive_relayer`: the baseline of bench/naive_relayer.py instead of the relayer that ships, in whichever
        process runs the relayer (bench/naive_backend.py). `worker_module`: another module to run as the background
        worker (`python -m <module>`, e.g. bench.unbounded_backend). `governance`: the suite's governance settings
        (voting delay and period, ...), else the deploy's defaults."""
        ensure_compiled()
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="kyoso-bench-")
        self.dir = Path(workdir or self._tmp.name)
        self.naive_relayer, self.indexer, self.workers = naive_relayer, indexer, workers
        self.worker_process, self.worker_module = worker_process, worker_module
        self.worker: Captured | None = None
        self.postgres = None
        if database == "postgres":
            from tools.devstack.postgres import PostgresServer
            self.postgres = PostgresServer()
        elif database != "sqlite":
            raise ValueError(f"database must be sqlite or postgres, not {database!r}")
        self.chain = Chain(block_time)
        self.settings = governance or GovernanceSettings()
        self.registry = deploy_registry(self.chain.w3, RELAYER, self.settings)
        (self.dir / "deployments").mkdir(exist_ok=True)
        (self.dir / "deployments" / f"{CHAIN_ID}.json").write_text(json.dumps(self.registry))
        self.database_url = self.postgres.url if self.postgres else f"sqlite:///{self.dir / 'kyoso.db'}"
        self.engine = make_engine(self.database_url)
        migrate(self.engine)
        self.sessions = session_factory(self.engine)
        self.vault = KeyVault(DEV_KEY_ENCRYPTION_KEY)
        self.server: Captured | None = None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.base}/api"

    def contract(self, name: str):
        abi = json.loads((BUILD / f"{name}.json").read_text())["abi"]
        return self.chain.w3.eth.contract(address=self.registry["contracts"][name]["address"], abi=abi)

    # ------------------------------------------------------------------ set-up in the database

    def add_members(self, count: int, prefix: str = "member") -> list[Member]:
        """`count` custodial members with an access token each, as POST /auth/signup would leave them (custodial key
        sealed by the key vault; token stored as its SHA-256 like auth.issue_token), without the argon2 password."""
        expires = datetime.now(timezone.utc) + timedelta(days=30)
        members, stamp = [], time.time_ns()
        with self.sessions.begin() as session:
            users = []
            for i in range(count):
                sealed = self.vault.create()
                user = User(email=f"{prefix}{i}-{stamp}@example.jp", password_hash=None, locale="ja",
                            wallet_address=sealed.address, wallet_kind=WalletKind.custodial)
                user.custodial_key = CustodialKey(address=sealed.address, sealed=sealed.ciphertext)
                users.append(user)
            session.add_all(users)
            session.flush()
            tokens = [new_secret(TOKEN_BYTES) for _ in users]
            session.add_all(AccessToken(token_hash=secret_hash(t), user_id=u.id, expires_at=expires)
                            for u, t in zip(users, tokens))
            members = [Member(u.id, u.wallet_address, t) for u, t in zip(users, tokens)]
        return members

    # ------------------------------------------------------------------ the backend

    def start(self, **overrides: str) -> None:
        """Starts the backend; `overrides` are extra environment variables (e.g. KYOSO_RELAYER_ENABLED="false")."""
        env = {
            "KYOSO_ENVIRONMENT": "test", "DATABASE_URL": self.database_url, "RPC_URL": self.chain.url,
            "KYOSO_CHAIN_ID": str(CHAIN_ID), "KYOSO_DEPLOYMENTS_DIR": str(self.dir / "deployments"),
            "KYOSO_PUBLIC_BASE_URL": self.base,
            "KYOSO_INDEXER_ENABLED": "true" if self.indexer else "false", **overrides,
        }
        self.worker = None
        app = "backend.app:app"
        if self.worker_process and "KYOSO_RELAYER_ENABLED" not in overrides:
            worker = self.worker_module or ("bench.naive_backend" if self.naive_relayer else "backend.worker")
            self.worker = Captured([sys.executable, "-m", worker], ROOT, env)
            env = {**env, "KYOSO_RELAYER_ENABLED": "false", "KYOSO_INDEXER_ENABLED": "false"}
        elif self.naive_relayer:
            app = "bench.naive_backend:app"
        # no access log: a line per request would be part of what is measured; warnings and errors still show
        workers = ["--workers", str(self.workers)] if self.workers > 1 else []
        self.server = Captured([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                                "--port", str(self.port), "--no-access-log", "--log-level", "warning", *workers],
                               ROOT, env)

        def healthy():
            if self.server.proc.poll() is not None:
                raise RuntimeError(f"the backend exited:\n{self.server.output}")
            if self.worker is not None and self.worker.proc.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.worker.output}")
            return answers_200(f"{self.api}/health")

        wait_until(healthy, READY_TIMEOUT_S, "backend healthy", 0.2)

    def stop_server(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.proc.poll() is None:
                process.proc.terminate()
                try:
                    process.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    def server_cpu_s(self) -> float:
        """CPU time (user + system, all threads) the backend has used so far, with its worker processes (and the
        background worker's, if it runs one)."""
        return self.api_cpu_s() + self.worker_cpu_s()

    def api_cpu_s(self) -> float:
        """The API processes' part of server_cpu_s."""
        return process_tree_cpu_s(self.server.proc.pid)

    def worker_cpu_s(self) -> float:
        """The background worker's part of server_cpu_s (0 when the relayer and the indexer run in the API)."""
        return process_tree_cpu_s(self.worker.proc.pid) if self.worker is not None else 0.0

    def verify(self, member: Member) -> None:
        """The member's address confirmed in the database (the operator's `kyoso accounts verify`): founding an
        organization and being a steward need it."""
        with self.sessions.begin() as session:
            user = session.get(User, member.user_id)
            user.email_verified_at = user.email_verified_at or datetime.now(timezone.utc)

    def approve(self, organization_id: int, steward: Member) -> None:
        """`steward` (made one in the database, the operator's job: backend/admin.py) approves the organization."""
        self.verify(steward)
        with self.sessions.begin() as session:
            session.get(User, steward.user_id).is_steward = True
        httpx.post(f"{self.api}/organizations/{organization_id}/approve", timeout=30,
                   headers={"Authorization": f"Bearer {steward.token}"}).raise_for_status()

    def organization_with_events(self, organizer: Member, count: int, words: list[str] | None = None,
                                 points: int = 10, gas_budget: int = 10**12) -> tuple[int, list[dict]]:
        """An organization and `count` events through the API, waited for on chain; the organization's gas budget
        is raised in the database (the sponsor's job, set-up here)."""
        headers = {"Authorization": f"Bearer {organizer.token}"}
        self.verify(organizer)
        org = httpx.post(f"{self.api}/organizations", json={"name_ja": "金沢市", "name_en": "Kanazawa City"},
                         headers=headers, timeout=30).json()
        self.approve(org["id"], organizer)
        now = datetime.now(timezone.utc)
        events = []
        for i in range(count):
            body = {"title_ja": f"金沢百万石まつり {i + 1}", "title_en": f"Hyakumangoku Festival {i + 1}",
                    "category": "festival", "venue": "金沢駅 鼓門",
                    "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=5)).isoformat(),
                    "claim_start": (now - timedelta(hours=1)).isoformat(),
                    "claim_end": (now + timedelta(days=1)).isoformat(), "capacity": 0, "points": points}
            if words:
                body["secret_word"] = words[i]
            response = httpx.post(f"{self.api}/organizations/{org['id']}/events", json=body, headers=headers,
                                  timeout=30)
            response.raise_for_status()
            events.append(response.json())
        with self.sessions.begin() as session:
            session.get(Organization, org["id"]).gas_budget = gas_budget
        ready = []
        for event in events:
            ready.append(wait_until(
                lambda e=event: (got := httpx.get(f"{self.api}/events/{e['id']}", timeout=10).json())["token_id"]
                is not None and got, 90, f"event {event['id']} on chain", 0.2))
        return org["id"], ready

    def stop(self) -> None:
        self.stop_server()
        self.chain.stop()
        self.engine.dispose()
        if self.postgres is not None:
            self.postgres.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None:
                self.check_nothing_reverted()
        finally:
            self.stop()

    def check_nothing_reverted(self) -> None:
        """Every benchmark run is also a check that no transaction of the backend's keys reverted (issue #23: gas
        limits that hold in whatever block a transaction lands in)."""
        with self.sessions() as session:
            reverted = session.execute(select(OutboundTx.purpose, OutboundTx.tx_hash, OutboundTx.gas_used,
                                              OutboundTx.gas_limit)
                                       .where(OutboundTx.status == TxStatus.reverted)).all()
        if reverted:
            raise RuntimeError(f"{len(reverted)} transaction(s) of the backend's keys reverted: {reverted[:5]}")


def run_load(job: dict, timeout: float) -> list[dict]:
    """Runs bench/load.py in a separate process on `job` and returns its per-request records."""
    with tempfile.TemporaryDirectory(prefix="kyoso-load-") as tmp:
        job_file, out_file = Path(tmp) / "job.json", Path(tmp) / "out.json"
        job_file.write_text(json.dumps(job))
        subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), str(job_file), str(out_file)],
                       cwd=ROOT, check=True, timeout=timeout + 60)
        return json.loads(out_file.read_text())


def answered_window(records: list[dict]) -> tuple[float, float]:
    """(first request sent, last answer received), wall-clock seconds."""
    return min(r["start"] for r in records if r["start"]), max(r["end"] for r in records if r["end"])


def wait_settled(stack: "Stack", status_column, in_flight: tuple, timeout: float) -> None:
    """Waits until no row has a status in `in_flight` (accepted or submitted), or `timeout` seconds. Rows whose
    answer the client never got count too: they are still the relayer's work."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stack.sessions() as session:
            if not session.scalar(select(func.count()).where(status_column.in_(in_flight))):
                return
        time.sleep(0.1)


def finish(name: str, script: str, result: dict, argv: list[str] | None, out: Path | None) -> dict:
    """Adds the machine, date and command to a result and writes it (to `out`, else bench/results/<name>.json)."""
    result.update(machine())
    result["command"] = f"python {script} " + " ".join(argv if argv is not None else sys.argv[1:])
    result["command"] = result["command"].strip()
    if out:
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        print(f"wrote {write_result(name, result)}")
    return result


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[index]


def machine() -> dict:
    load1, load5, _ = os.getloadavg()
    return {"machine": platform.node() or "unknown", "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "load_average_1m_at_end": round(load1, 2),
            "load_average_5m_at_end": round(load5, 2),
            "date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "python": platform.python_version()}


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path


def chain_balances(badges, pairs: list[tuple[str, int]], chunk: int = 500) -> list[int]:
    """balanceOf for each (address, token id), batched."""
    out = []
    for i in range(0, len(pairs), chunk):
        part = pairs[i:i + chunk]
        out += badges.functions.balanceOfBatch([a for a, _ in part], [t for _, t in part]).call()
    return out


