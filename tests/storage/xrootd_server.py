"""A real XRootD server of a test's own: a temporary folder, a free loopback port, killed by
PID at the end (docs: /work/shared/RECIPES.md, "XRootD storage element")."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bookkeeping.local_servers import free_port

SERVER_USER = "xrootd"  # as root the server refuses to run without -R <user>
READY_WITHIN = 20.0


@dataclass(frozen=True)
class XRootDServer:
    port: int
    folder: Path  # DIR; files of the export /store are under DIR/data/store
    pid: int

    @property
    def url(self) -> str:
        return f"root://127.0.0.1:{self.port}//store"

    @property
    def data(self) -> Path:
        return self.folder / "data" / "store"


def available() -> bool:
    return shutil.which("xrootd") is not None


def _ensure_user() -> None:
    """The unprivileged user the server runs as (created once, idempotently)."""
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=False,
            capture_output=True,
        )
        pwd.getpwnam(SERVER_USER)  # KeyError again: the user could not be made


@contextmanager
def xrootd_server() -> Iterator[XRootDServer]:
    """Start ``xrootd`` exporting ``/store`` with server-side adler32; stop it by PID."""
    folder = Path(tempfile.mkdtemp(prefix="bk-xrootd-"))  # under /tmp: reachable by the user
    for sub in ("data/store", "admin", "run", "log"):
        (folder / sub).mkdir(parents=True)
    port = free_port()
    (folder / "xrootd.cfg").write_text(
        f"xrd.port {port}\n"
        "xrd.network nodnr\n"
        "all.role server\n"
        "all.export /store\n"
        f"oss.localroot {folder}/data\n"
        "xrootd.chksum adler32\n"
        f"all.adminpath {folder}/admin\n"
        f"all.pidpath {folder}/run\n"
    )
    command = [
        "xrootd",
        "-c",
        str(folder / "xrootd.cfg"),
        "-l",
        str(folder / "log/xrootd.log"),
        "-n",
        "bk",
    ]
    if os.geteuid() == 0:
        _ensure_user()
        entry = pwd.getpwnam(SERVER_USER)
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        command[1:1] = ["-R", SERVER_USER]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "log/xrootd.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"xrootd did not start on port {port}:\n{log}") from None
                time.sleep(0.005)
        yield XRootDServer(port, folder, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
