"""Helpers for the tests and the benchmarks that start real processes (Anvil, the backend, the `make run` stack)
and talk to them over loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Polls `predicate` until it returns something true (returned), or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout} s")


class Captured:
    """A process started in its own session (like a terminal job) whose output is collected as it arrives."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, text=True,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return strip_ansi("".join(self._lines))

    def wait_for_output(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            if self.proc.poll() is not None:
                self._reader.join(timeout=5)
                if needle in self.output:
                    return
                raise AssertionError(f"exited ({self.proc.returncode}) before printing {needle!r}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not printed within {timeout} s:\n{self.output}")
            time.sleep(0.1)

    def ctrl_c(self, timeout: float = 30) -> int:
        """What Ctrl-C in a terminal does: SIGINT to the whole foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Anvil:
    """An Anvil of a test's own (beside brownie's test chain), e.g. with interval mining or to stop and resume."""

    def __init__(self, project_root: Path, *args: str):
        from web3 import Web3

        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(project_root / ".bin" / "anvil"), "--port", str(self.port), "--enable-tx-gas-limit", "--silent",
             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.w3 = Web3(Web3.HTTPProvider(self.url))
        deadline = time.monotonic() + 20
        while not self.w3.is_connected():
            if time.monotonic() > deadline:
                raise AssertionError("anvil did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case a test left it stopped
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Backend:
    """The backend as `uvicorn backend.app:app`, a real process that a test can SIGKILL and start again."""

    def __init__(self, project_root: Path, env: dict, port: int, log):
        import httpx

        self.port = port
        self.proc = subprocess.Popen(
            # X-Forwarded-For is the app's to judge (KYOSO_TRUSTED_PROXIES), not uvicorn's (it trusts 127.0.0.1)
            [sys.executable, "-m", "uvicorn", "backend.app:app", "--no-proxy-headers", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=project_root, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}/api"  # the JSON API
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise AssertionError(f"backend exited with {self.proc.returncode}") from None
                time.sleep(0.2)
        raise AssertionError("backend did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def signup(url: str, email: str | None = None) -> dict:
    """A new member through the API (sign-up, then log-in with the password chosen); returns the Authorization
    header. The address stays unconfirmed (`verify` confirms it)."""
    import httpx

    email = email or f"member-{time.time_ns()}-{os.getpid()}-{threading.get_ident()}@example.jp"
    response = httpx.post(f"{url}/auth/signup", json={"email": email, "password": "password-123"}, timeout=30)
    assert response.status_code == 202, response.text
    response = httpx.post(f"{url}/auth/login", json={"email": email, "password": "password-123"}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def kyoso(database_url: str, project_root: Path, *args: str) -> None:
    """The operator's command (`kyoso ...`, backend/admin.py) on the backend's database."""
    subprocess.run([sys.executable, "-m", "backend.admin", *args], cwd=project_root, check=True,
                   env={**os.environ, "DATABASE_URL": database_url}, stdout=subprocess.DEVNULL)


def verify(url: str, headers: dict, database_url: str, project_root: Path) -> dict:
    """The member behind `headers` with a confirmed address (the operator vouches for it, `kyoso accounts verify`):
    what founding an organization or any role that issues needs. Returns `headers`."""
    import httpx

    email = httpx.get(f"{url}/me", headers=headers, timeout=30).json()["email"]
    kyoso(database_url, project_root, "accounts", "verify", email)
    return headers


def steward(url: str, database_url: str, project_root: Path) -> dict:
    """A new member with a confirmed address made a steward by the operator's command (backend/admin.py) on the
    backend's database, as an operator does it; returns the Authorization header."""
    email = f"steward-{time.time_ns()}-{os.getpid()}@example.jp"
    headers = signup(url, email)
    kyoso(database_url, project_root, "accounts", "verify", email)
    kyoso(database_url, project_root, "steward", "add", email)
    return headers


@contextmanager
def running_stack(project_root: Path, data_dir: Path) -> Iterator[SimpleNamespace]:
    """`make run` on free ports with its data in data_dir, until the block ends (Ctrl-C, then a kill if need be)."""
    chain_port, api_port = free_port(), free_port()
    env = {"KYOSO_CHAIN_PORT": str(chain_port), "KYOSO_API_PORT": str(api_port), "KYOSO_DATA_DIR": str(data_dir)}
    process = Captured(["make", "--no-print-directory", "run"], cwd=project_root, env=env)
    try:
        process.wait_for_output("Kyoso is running", 180)
        yield SimpleNamespace(base=f"http://127.0.0.1:{api_port}", chain=f"http://127.0.0.1:{chain_port}",
                              api_port=api_port, process=process, started=time.monotonic())
        process.ctrl_c()
    finally:
        process.kill()
