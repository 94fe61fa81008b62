"""A real Debian PostgreSQL server on a free loopback port, started and stopped by the tests.

initdb refuses to run as root, so when the tests run as root the cluster is made and served by
the `postgres` user (runuser), in a temporary folder that user owns; otherwise by the current
user. The server listens on 127.0.0.1 only (no Unix socket) and trusts local connections: it is
a throw-away test cluster, with fsync off.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.broker import free_port

SUPERUSER = "etc"


def find_postgres_bin() -> Path | None:
    """The folder holding initdb and postgres (Debian's newest, else the PATH's), or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_server_user(argv: list[str]) -> tuple[list[str], int | None]:
    """The command line that runs `argv` as the cluster's owner, and that owner's uid."""
    if os.geteuid() != 0:
        return argv, None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise RuntimeError("running as root and there is no postgres user to run initdb") from exc
    return ["runuser", "-u", "postgres", "--", *argv], owner.pw_uid


@dataclass
class PostgresServer:
    """A running test cluster; `url(database)` is a libpq URL for psycopg."""

    bin_dir: Path
    port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="etc-pg-")))
    process: subprocess.Popen[bytes] | None = None
    _databases: int = 0

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        initdb, uid = _as_server_user([
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        ])
        if uid is not None:
            os.chown(self.workdir, uid, -1)
        done = subprocess.run(initdb, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {(done.stderr or done.stdout).strip()[-400:]}")
        log = self.log_path.open("ab")
        if uid is not None:
            os.chown(self.log_path, uid, -1)
        server, _ = _as_server_user([
            str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=50",
        ])
        self.process = subprocess.Popen(server, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start-up; see {self.log_path}")
            if self._accepts_connections():
                return
            time.sleep(0.05)
        raise RuntimeError(f"postgres did not accept connections on port {self.port} within 30 s")

    def _accepts_connections(self) -> bool:
        """True once a session can be had: the port listens a while before the server leaves
        its start-up ("the database system is starting up")."""
        import psycopg

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                pass
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except (OSError, psycopg.OperationalError):
            return False

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        self._databases += 1
        name = f"centre_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """A started test cluster; RuntimeError says why one cannot be had."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        raise RuntimeError("Debian's postgresql is not installed (apt-get install postgresql)")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
