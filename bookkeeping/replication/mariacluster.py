"""A throw-away MariaDB primary with GTID replicas, for tests and benchmarks.

Each server runs ``mariadbd`` as the ``mysql`` user in a folder of its own under a
temporary directory, listens on a free loopback port (and a socket in that folder, never
the machine's), and is stopped by PID; the machine's own MariaDB on 3306 is never touched.

``mariadb-install-db`` runs once per cluster (about 7 s on a busy 2-core machine); every
server starts from a copy of that untouched data directory, so a replica has the same
system tables as the primary and replays the primary's binary log from its first GTID
(``MASTER_USE_GTID=slave_pos`` with an empty position). Binary logs are ROW format with
``gtid_strict_mode``; commits are written to the OS but not synced (test data: safe from a
killed server, not from a lost machine). ``root`` over TCP from 127.0.0.1 has
no password (``--auth-root-authentication-method=normal``) and is also the replication user.
"""

from __future__ import annotations

import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bookkeeping.local_servers import free_port, wait_closed

START_TIMEOUT_S = 60.0
SERVER = shutil.which("mariadbd", path="/usr/sbin:/usr/bin:/usr/local/sbin")
INSTALL_DB = shutil.which("mariadb-install-db", path="/usr/bin:/usr/local/bin:/usr/sbin")


def available() -> str | None:
    """Why a cluster cannot be built here (``None`` when it can)."""
    if SERVER is None or INSTALL_DB is None:
        return "mariadbd / mariadb-install-db not found (apt-get install mariadb-server)"
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        return "there is no 'mysql' user to run the servers as"
    return None


@dataclass
class MariaServer:
    name: str
    server_id: int
    data: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "") -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def execute(self, *statements: str) -> list[tuple[object, ...]]:
        """Run ``statements`` as root over TCP; the last one's rows."""
        engine = sa.create_engine(self.url(), poolclass=sa.NullPool)
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                for statement in statements:
                    result = connection.exec_driver_sql(statement)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()


@dataclass
class MariaCluster:
    """``with MariaCluster() as cluster: cluster.add_replica()``; everything stops on exit."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bk-mariacluster-")))
    primary: MariaServer | None = None
    replicas: list[MariaServer] = field(default_factory=list)

    def __enter__(self) -> MariaCluster:
        try:
            self.start_primary()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- building -------------------------------------------------------------------

    def start_primary(self) -> MariaServer:
        self.root.chmod(0o755)
        shutil.chown(self.root, "mysql", "mysql")  # sockets and pid files live here
        template = self.root / "template"
        _run(
            [
                str(INSTALL_DB),
                "--no-defaults",
                f"--datadir={template}",
                "--user=mysql",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ]
        )
        self.primary = self._server("primary", 1)
        self.start(self.primary)
        return self.primary

    def add_replica(self) -> MariaServer:
        assert self.primary is not None
        replica = self._server(f"replica{len(self.replicas) + 1}", len(self.replicas) + 2)
        self.start(replica)
        replica.execute(
            "SET GLOBAL gtid_slave_pos = ''",
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={self.primary.port}, "
            "MASTER_USER='root', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
            "START SLAVE",
        )
        self.replicas.append(replica)
        return replica

    def _server(self, name: str, server_id: int) -> MariaServer:
        data = self.root / name
        shutil.copytree(self.root / "template", data, symlinks=True)
        shutil.chown(data, "mysql", "mysql")
        for path in data.rglob("*"):
            shutil.chown(path, "mysql", "mysql")
        return MariaServer(name, server_id, data, free_port(), self.root / f"{name}.log")

    # -- life cycle -----------------------------------------------------------------

    def start(self, server: MariaServer) -> None:
        """Start (or restart) ``server`` and wait until it accepts connections; a
        restarted replica resumes replication from its own ``gtid_slave_pos``."""
        server.process = subprocess.Popen(
            [
                str(SERVER),
                "--no-defaults",
                f"--datadir={server.data}",
                f"--port={server.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.root / server.name}.sock",
                f"--pid-file={self.root / server.name}.pid",
                f"--log-error={server.log}",
                f"--server-id={server.server_id}",
                f"--log-bin={server.data / 'binlog'}",
                "--binlog-format=ROW",
                "--log-slave-updates",
                "--gtid-strict-mode=1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
                # Each commit reaches the OS (no fsync): safe from a killed server, which
                # the tests do; 0 loses the last second and breaks the replica's restart.
                "--innodb-flush-log-at-trx-commit=2",
                "--sync-binlog=0",
                "--max-connections=300",
                *(["--read-only=1"] if server.name != "primary" else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user="mysql",
            group="mysql",
            extra_groups=[],
        )
        self._wait_ready(server)

    def kill(self, server: MariaServer) -> None:
        """Crash ``server`` (SIGKILL) and wait for its port to close."""
        if server.process is not None and server.process.poll() is None:
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=10)
        wait_closed(server.port)

    def stop(self, server: MariaServer) -> None:
        """Normal shutdown (SIGTERM), escalating to SIGKILL."""
        if server.process is None or server.process.poll() is not None:
            return
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill(server)

    def close(self) -> None:
        for server in [*self.replicas, *([self.primary] if self.primary else [])]:
            try:
                self.stop(server)
            finally:
                if server.process is not None and server.process.poll() is None:
                    server.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_ready(self, server: MariaServer) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if server.process is not None and server.process.poll() is not None:
                log = server.log.read_text(errors="replace") if server.log.exists() else ""
                raise RuntimeError(
                    f"{server.name} exited with {server.process.returncode}: {log[-2000:]}"
                )
            try:
                server.execute("SELECT 1")
                return
            except sa.exc.OperationalError:
                time.sleep(0.05)
        raise RuntimeError(f"{server.name} did not accept connections in {START_TIMEOUT_S} s")


def _run(command: list[str]) -> None:
    completed = subprocess.run(command, capture_output=True, timeout=180, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"{Path(command[0]).name} failed ({completed.returncode}): "
            f"{completed.stderr.decode(errors='replace').strip()[-2000:]}"
        )
