"""A throw-away PostgreSQL primary with streaming standbys, for tests and benchmarks.

Each server runs as the ``postgres`` user (PostgreSQL refuses root) in a folder of its own
under a temporary directory, listens on a free loopback port, and is stopped by PID. It is
what ``/work/shared/RECIPES.md`` describes: ``initdb``, ``pg_basebackup -R -X stream``;
without fsync (test data), so a primary and a standby are up in about two seconds.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bookkeeping.local_servers import free_port, wait_closed

PG_BIN = Path(os.environ.get("BK_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_S = 30.0


def available() -> str | None:
    """Why a cluster cannot be built here (``None`` when it can)."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL binaries not found in {PG_BIN} (set BK_PG_BIN)"
    if os.geteuid() != 0:
        return "building a PostgreSQL cluster needs root (to run the servers as postgres)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no 'postgres' user to run the servers as"
    return None


@dataclass
class PgServer:
    name: str
    data: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class PgCluster:
    """``with PgCluster() as cluster: cluster.add_standby()``; everything stops on exit."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bk-pgcluster-")))
    primary: PgServer | None = None
    standbys: list[PgServer] = field(default_factory=list)

    def __enter__(self) -> PgCluster:
        try:
            self.start_primary()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- building -------------------------------------------------------------------

    def start_primary(self) -> PgServer:
        os.chmod(self.root, 0o755)
        shutil.chown(self.root, "postgres", "postgres")
        (self.root / "sock").mkdir()
        shutil.chown(self.root / "sock", "postgres", "postgres")
        server = self._server("primary")
        self._as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(server.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        self.primary = server
        self.start(server)
        return server

    def add_standby(self) -> PgServer:
        assert self.primary is not None
        server = self._server(f"standby{len(self.standbys) + 1}")
        self._as_postgres(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                "postgres",
                "-D",
                str(server.data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ]
        )
        self.standbys.append(server)
        self.start(server)
        return server

    def _server(self, name: str) -> PgServer:
        return PgServer(name, self.root / name, free_port(), self.root / f"{name}.log")

    # -- life cycle -----------------------------------------------------------------

    def start(self, server: PgServer) -> None:
        """Start (or restart) ``server`` and wait until it accepts connections."""
        log = open(server.log, "ab")  # noqa: SIM115 - the server's stdio for its lifetime
        server.process = subprocess.Popen(
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(server.data),
                "-p",
                str(server.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root / 'sock'}",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user="postgres",
            group="postgres",
            extra_groups=[],
        )
        log.close()
        self._wait_ready(server)

    def kill(self, server: PgServer) -> None:
        """Crash ``server`` (SIGKILL to the postmaster) and wait for it to be gone."""
        if server.process is not None and server.process.poll() is None:
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=10)
        # The postmaster's children notice their parent is gone and exit; wait for the port.
        wait_closed(server.port)
        (server.data / "postmaster.pid").unlink(missing_ok=True)

    def stop(self, server: PgServer) -> None:
        """Fast shutdown (SIGINT), escalating to SIGKILL."""
        if server.process is None or server.process.poll() is not None:
            return
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill(server)

    def close(self) -> None:
        for server in [*self.standbys, *([self.primary] if self.primary else [])]:
            try:
                self.stop(server)
            finally:
                if server.process is not None and server.process.poll() is None:
                    server.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------

    def _as_postgres(self, command: list[str]) -> None:
        completed = subprocess.run(
            command,
            capture_output=True,
            user="postgres",
            group="postgres",
            extra_groups=[],
            cwd=self.root,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({completed.returncode}): "
                f"{completed.stderr.decode(errors='replace').strip()}"
            )

    def _wait_ready(self, server: PgServer) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if server.process is not None and server.process.poll() is not None:
                raise RuntimeError(
                    f"{server.name} exited with {server.process.returncode}: "
                    f"{server.log.read_text(errors='replace')[-2000:]}"
                )
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(server.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{server.name} did not accept connections in {START_TIMEOUT_S} s")
