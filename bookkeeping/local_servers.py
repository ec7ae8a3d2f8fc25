"""Servers a process starts on loopback for itself (test fixtures, benchmarks, the throw-away
replication clusters): a free port to give one, whether a port answers, and waiting for a
killed server's port to close before the next start reuses its folder."""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel's pick; free until someone binds)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def accepts(port: int, *, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on the loopback ``port``."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_closed(port: int, *, timeout: float = 10.0) -> bool:
    """Wait until nothing accepts connections on ``port`` (a killed server's children exit
    after it); False if something still does after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while accepts(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
