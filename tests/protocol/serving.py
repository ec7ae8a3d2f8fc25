"""Running a real AMGA server for the tests: in-process (its own event loop thread), or as
``bk amga serve`` in a process of its own."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bookkeeping.amga_adapter.server import AmgaServer, ServerSettings


@dataclass
class RunningServer:
    server: AmgaServer
    loop: asyncio.AbstractEventLoop

    @property
    def port(self) -> int:
        return self.server.port

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def running_server(catalogue: Any, **settings: Any) -> Iterator[RunningServer]:
    """A server on a free loopback port; shut down gracefully afterwards."""
    settings.setdefault("port", 0)
    settings.setdefault("workers", 4)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="amga-test-loop", daemon=True)
    thread.start()
    running = RunningServer(AmgaServer(catalogue, ServerSettings(**settings)), loop)
    try:
        running.call(running.server.start())
        yield running
    finally:
        try:
            running.call(running.server.shutdown(), timeout=60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


@contextmanager
def served_by_bk(database_url: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``bk amga serve`` in a process of its own (its memory can be measured), logging to
    ``log``; yields the process and its port, and stops it with SIGTERM afterwards."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [Path(sys.executable).with_name("bk"), "amga", "serve", "--db", database_url]
            + ["--port", "0"],
            stderr=sink,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline and process.poll() is None:
            match = re.search(rb"listening on [\d.]+:(\d+)", log.read_bytes())
            port = int(match.group(1)) if match else None
            time.sleep(0.05)
        assert port, f"the server did not report its port: {log.read_bytes()[-2000:]!r}"
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def resident_memory(pid: int) -> int:
    """The resident set size of a process, in bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match, status
    return int(match.group(1)) * 1024
