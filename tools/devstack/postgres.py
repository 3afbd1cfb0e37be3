"""A PostgreSQL server of a test's own: a new cluster in a temporary folder, on a free loopback port, stopped after.

It uses Debian's PostgreSQL binaries (`make test` installs the `postgresql` package when they are missing). The
server refuses to run as root, so under root (CI, containers) it runs as the `postgres` user the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tools.devstack.processes import free_port


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self):
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
        # Not under pytest's tmp_path: that is private to root, and the server may run as another user.
        folder = Path(tempfile.mkdtemp(prefix="kyoso-pg-"))
        self.bindir, self.folder, self.port = bindir, folder, free_port()
        self.data, self.socket_dir = folder / "data", folder / "socket"
        self.socket_dir.mkdir(parents=True)
        self._as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (folder, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "kyoso", "-E", "UTF8", "--locale=C")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(folder / "server.log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=200")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "kyoso", "kyoso")
        self.url = f"postgresql+psycopg://kyoso@127.0.0.1:{self.port}/kyoso"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bindir / tool), *args], check=True, capture_output=True, timeout=120,
                       cwd="/")

    def new_database(self, name: str) -> str:
        """Another empty database on this server (a test's own); its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "kyoso", name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
