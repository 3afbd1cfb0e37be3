"""`make run`: the local Kyoso stack in one terminal, stopped as a whole by Ctrl-C.

1. Anvil on 127.0.0.1:8545 (chain id 31337, 30M block gas limit, EIP-7825 per-transaction cap), its state kept
   in .kyoso/anvil-state.json across restarts (FRESH=1 starts a new chain and a new database);
2. scripts/deploy.py on brownie's kyoso-dev network, attached to that Anvil (tools/brownie_run.py; deploys
   only what is missing); then the chain makes a block every BLOCK_TIME_S seconds, with or without transactions,
   as a public chain does (KYOSO_BLOCK_TIME=0 leaves Anvil mining only when a transaction arrives);
3. in development (unless KYOSO_SMTP_HOST names a mail server), a local mail catcher on a free port
   (tools/devstack/mail_catcher.py): every e-mail the backend sends lands in .kyoso/mail, shown on /dev/mail;
4. the background worker (`python -m backend.worker`: the relayer, the indexer and the mailer) and the API
   (uvicorn, with all three off) on 127.0.0.1:8000, with SQLite in .kyoso/kyoso.db: the deployment layout of
   docs/backend.md;
5. a demo community (scripts/seed.py, through the API; KYOSO_SEED=0 skips it).

Every child gets PR_SET_PDEATHSIG, so even a killed supervisor leaves no orphan Anvil on the port.
Ports and the data folder can be moved with KYOSO_CHAIN_PORT, KYOSO_API_PORT and KYOSO_DATA_DIR.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAIN_ID = 31337
BLOCK_GAS_LIMIT = 30_000_000
READY_TIMEOUT_S = 60  # Anvil, the deploy script and the API each get this long to come up
STOP_GRACE_S = 10  # after SIGTERM, before SIGKILL
STATE_DUMP_INTERVAL_S = 10  # Anvil also dumps on a clean exit; this bounds the loss on a hard kill
# Public chains make blocks whether or not anyone sends a transaction (Base and OP chains every 2 s), so time moves on
# chain: a proposal opens for voting when its delay has passed, not when someone happens to send something. The
# deployment before it runs on automine (a one-off set-up, one transaction after another: ~25 blocks of waiting
# saved); everything the backend does runs on the interval.
BLOCK_TIME_S = int(os.environ.get("KYOSO_BLOCK_TIME", "2"))

chain_port = int(os.environ.get("KYOSO_CHAIN_PORT", "8545"))
api_port = int(os.environ.get("KYOSO_API_PORT", "8000"))
data_dir = Path(os.environ.get("KYOSO_DATA_DIR", ROOT / ".kyoso"))
fresh = os.environ.get("FRESH", "") not in ("", "0")
brownie_network = os.environ.get("KYOSO_BROWNIE_NETWORK", "kyoso-dev")

children: list[subprocess.Popen] = []


class StackError(Exception):
    """A failure with a message for the person at the terminal (no traceback)."""


def _die_with_parent() -> None:
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    # Ctrl-C reaches the supervisor only; it stops the children in order.
    os.setpgrp()


def start(name: str, cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None,
          unset: tuple[str, ...] = ()) -> subprocess.Popen:
    """`env` is added to this process's environment, without the variables in `unset`."""
    out = open(log, "ab") if log else None  # noqa: SIM115 - owned by the child for its lifetime
    child_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT if out else None,
        preexec_fn=_die_with_parent,
    )
    proc.name = name  # type: ignore[attr-defined]
    children.append(proc)
    return proc


def stop_all() -> None:
    for proc in reversed(children):
        if proc.poll() is None:
            # SIGINT lets Anvil dump its state; each child leads its own process group (uvicorn may fork)
            os.killpg(proc.pid, signal.SIGINT if proc.name == "anvil" else signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for proc in reversed(children):
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def check_port_free(port: int, what: str, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise StackError(
                f"Port {port} ({what}) is already in use: is another `make run` or Anvil running? "
                f"Stop it, or choose another port with {variable}=<port>."
            ) from None


def rpc(method: str, params: list | None = None) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{chain_port}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return json.loads(response.read())["result"]


def wait_until(what: str, proc: subprocess.Popen, probe, log: Path | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            hint = f"; see {log}" if log else ""
            raise StackError(f"{what} exited with code {proc.returncode} while starting{hint}")
        try:
            if probe():
                return
        except (OSError, urllib.error.URLError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise StackError(f"{what} did not become ready within {READY_TIMEOUT_S} s")


def api_healthy() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/api/health", timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 503  # up, but reporting a problem: /health tells what


def relayer_address() -> dict[str, str]:
    """KYOSO_RELAYER_ADDRESS for the API process, when the relayer's key is not Anvil's development key (whose address
    the backend knows)."""
    key = os.environ.get("KYOSO_RELAYER_PRIVATE_KEY")
    if not key or "KYOSO_RELAYER_ADDRESS" in os.environ:
        return {}
    from eth_account import Account

    return {"KYOSO_RELAYER_ADDRESS": Account.from_key(key).address}


def start_mail_catcher(environment: str) -> dict[str, str]:
    """In development, unless KYOSO_SMTP_HOST names a server of one's own: the local mail catcher
    (tools/devstack/mail_catcher.py) on a free port, which keeps every message the backend sends in data_dir/mail, and
    the settings that point the backend at it (/dev/mail shows what it caught)."""
    if environment != "development" or os.environ.get("KYOSO_SMTP_HOST"):
        return {}
    maildir, log = data_dir / "mail", data_dir / "mail.log"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    catcher = start("mail", [sys.executable, "-m", "tools.devstack.mail_catcher", "--port", str(port),
                             "--maildir", str(maildir)], log=log)

    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    wait_until("The mail catcher", catcher, listening, log)
    return {"KYOSO_SMTP_HOST": "127.0.0.1", "KYOSO_SMTP_PORT": str(port), "KYOSO_SMTP_STARTTLS": "false",
            "KYOSO_DEV_MAIL_DIR": str(maildir)}


def main() -> int:
    check_port_free(chain_port, "the Anvil chain", "KYOSO_CHAIN_PORT")
    check_port_free(api_port, "the API", "KYOSO_API_PORT")
    state_file = data_dir / "anvil-state.json"
    database = data_dir / "kyoso.db"
    deployments_dir = data_dir / "deployments" if "KYOSO_DATA_DIR" in os.environ else ROOT / "deployments"
    if fresh:
        for path in (state_file, database, deployments_dir / f"{CHAIN_ID}.json"):
            path.unlink(missing_ok=True)
        shutil.rmtree(data_dir / "mail", ignore_errors=True)  # the mail the local catcher kept
        print("FRESH=1: starting a new chain and a new database")
    data_dir.mkdir(parents=True, exist_ok=True)

    anvil_log = data_dir / "anvil.log"
    anvil_bin = ROOT / ".bin" / "anvil"
    if not anvil_bin.exists():
        raise StackError(f"{anvil_bin} is missing; run `make setup` (or `make run`, which sets up first)")
    anvil = start(
        "anvil",
        [
            str(anvil_bin), "--host", "127.0.0.1", "--port", str(chain_port), "--chain-id", str(CHAIN_ID),
            "--gas-limit", str(BLOCK_GAS_LIMIT), "--enable-tx-gas-limit", "--accounts", "10",
            "--block-base-fee-per-gas", "0", "--state", str(state_file),
            "--state-interval", str(STATE_DUMP_INTERVAL_S),
        ],
        log=anvil_log,
    )
    wait_until("Anvil", anvil, lambda: int(rpc("eth_chainId"), 16) == CHAIN_ID, anvil_log)
    print(f"Anvil: chain {CHAIN_ID} at http://127.0.0.1:{chain_port}, block {int(rpc('eth_blockNumber'), 16)}")

    env = {"KYOSO_DEPLOYMENTS_DIR": str(deployments_dir)}
    deploy = start(
        "deploy",
        [sys.executable, "tools/brownie_run.py", "scripts/deploy.py", "--network", brownie_network,
         "--port", str(chain_port)],
        env=env,
    )
    if deploy.wait() != 0:
        raise StackError("Deploying the contracts failed (see the brownie output above)")
    if BLOCK_TIME_S > 0:
        rpc("evm_setIntervalMining", [BLOCK_TIME_S])  # also turns automine off
        print(f"Anvil: a block every {BLOCK_TIME_S} s from now on (KYOSO_BLOCK_TIME)")

    api_env = {
        **env,
        "KYOSO_ENVIRONMENT": os.environ.get("KYOSO_ENVIRONMENT", "development"),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{database}"),
        "RPC_URL": f"http://127.0.0.1:{chain_port}",
        "KYOSO_CHAIN_ID": str(CHAIN_ID),
        "KYOSO_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
    }
    mail = start_mail_catcher(api_env["KYOSO_ENVIRONMENT"])
    api_env.update(mail)  # the worker sends the outbox; the API only stores into it
    worker = start("worker", [sys.executable, "-m", "backend.worker"], env=api_env)
    api = start(
        "api",
        # X-Forwarded-For is the app's to judge (KYOSO_TRUSTED_PROXIES), not uvicorn's own default (it trusts 127.0.0.1)
        [sys.executable, "-m", "uvicorn", "backend.app:app", "--no-proxy-headers", "--host", "127.0.0.1",
         "--port", str(api_port)],
        env={**api_env, "KYOSO_RELAYER_ENABLED": "false", "KYOSO_INDEXER_ENABLED": "false",
             "KYOSO_MAILER_ENABLED": "false", **relayer_address()},
        unset=("KYOSO_RELAYER_PRIVATE_KEY",),  # the API does not sign: it gets the relayer's address, never its key
    )
    wait_until("The API", api, api_healthy, None)
    base = f"http://127.0.0.1:{api_port}"
    if os.environ.get("KYOSO_SEED", "1") != "0":
        seeded = start("seed", [sys.executable, "scripts/seed.py", base, f"http://127.0.0.1:{chain_port}"],
                       env=api_env)  # the backend's database: the seed makes its demo organizer a steward
        if seeded.wait() != 0:
            raise StackError("Seeding the demo community failed (see the output above)")
    print(
        "\nKyoso is running (Ctrl-C stops everything):\n"
        f"  API        {base}\n"
        f"  API docs   {base}/docs\n"
        f"  health     {base}/api/health\n"
        + (f"  mail       {base}/dev/mail (every e-mail the backend sends, caught on this machine)\n" if mail else "")
        + f"  chain RPC  http://127.0.0.1:{chain_port} (chain id {CHAIN_ID}, "
        f"{f'a block every {BLOCK_TIME_S} s' if BLOCK_TIME_S else 'a block per transaction'}; state in {state_file})\n",
        flush=True,
    )
    while all(proc.poll() is None for proc in (anvil, worker, api)):
        time.sleep(0.5)
    failed = next(proc for proc in (anvil, worker, api) if proc.poll() is not None)
    raise StackError(f"{failed.name} stopped unexpectedly (exit code {failed.returncode})")


def _on_signal(signum: int, _frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    # Installed explicitly: a shell that starts us in the background may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    code = 0
    try:
        main()
    except KeyboardInterrupt:
        print("\nStopping Kyoso…", flush=True)
    except StackError as exc:
        print(f"\nmake run: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stop_all()
    sys.exit(code)
