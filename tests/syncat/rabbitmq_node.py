"""A RabbitMQ node of a test's own (RECIPES.md): a temporary folder, free loopback ports,
started as a child and killed by PID (``kill -9`` of its ``beam.smp`` to crash it). The
machine's broker on 5672 is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bookkeeping.local_servers import accepts, free_port

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
READY_TIMEOUT = 60.0


def available() -> bool:
    return SERVER.exists()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    result, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            result.append(child)
            todo.append(child)
    return result


def _name_of(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


class RabbitNode:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.dist_port = free_port()
        self.name = f"bk{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen[bytes] | None = None
        for sub in ("home", "mnesia", "log"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        (directory / "env").write_text("")
        (directory / "plugins").write_text("[].\n")
        (directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        d = self.directory
        environment = {
            **os.environ,
            "HOME": str(d / "home"),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(d / "env"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "plugins"),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        self.process = subprocess.Popen(
            [str(SERVER)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while not accepts(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"RabbitMQ node exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("RabbitMQ node not listening after 60 s")
            time.sleep(0.1)

    def crash(self) -> None:
        """kill -9 the node's beam.smp (the Erlang VM), as a machine failure would."""
        assert self.process is not None
        beams = [pid for pid in _descendants(self.process.pid) if _name_of(pid) == "beam.smp"]
        assert beams, "no beam.smp under the node's process"
        for pid in beams:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        self._kill_rest()
        deadline = time.monotonic() + 10
        while accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _kill_rest(self) -> None:
        """epmd and other helpers the node started (its own descendants only)."""
        if self.process is None:
            return
        for pid in _descendants(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.process is None:
            return
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(30)
        self.process = None


@contextmanager
def rabbitmq_node(directory: Path) -> Iterator[RabbitNode]:
    node = RabbitNode(directory)
    node.start()
    try:
        yield node
    finally:
        node.stop()
