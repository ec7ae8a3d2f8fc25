"""``bk syncat serve``: the relay, the consumers and the SE producers of one process, each a
loop in a thread of its own with a transport of its own (a kombu connection is not shared
between threads). A loop survives a lost broker or database: it logs, waits (growing pauses
up to ``MAX_PAUSE``) and goes on; what was not acknowledged comes again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from bookkeeping.errors import BookkeepingError
from bookkeeping.syncat.errors import BrokerUnavailable

log = logging.getLogger(__name__)
MAX_PAUSE = 5.0


@dataclass
class Loop:
    """``step`` does one round and says whether it found work (else the loop pauses)."""

    name: str
    step: Callable[[], bool]
    idle: float = 0.1
    close: Callable[[], None] = lambda: None
    rounds: int = 0
    errors: int = 0
    last_error: str | None = field(default=None)

    def run(self, stop: threading.Event) -> None:
        pause = self.idle
        try:
            while not stop.is_set():
                try:
                    busy = self.step()
                    self.rounds += 1
                    pause = self.idle
                    if not busy:
                        stop.wait(self.idle)
                except (BrokerUnavailable, BookkeepingError, sa.exc.OperationalError) as exc:
                    self.errors += 1
                    self.last_error = str(exc)
                    log.warning("%s: %s; trying again in %.1f s", self.name, exc, pause)
                    stop.wait(pause)
                    pause = min(pause * 2, MAX_PAUSE)
        finally:
            self.close()


class Service:
    def __init__(self, loops: list[Loop]) -> None:
        self.loops = loops
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for loop in self.loops:
            thread = threading.Thread(target=loop.run, args=(self.stop,), name=loop.name)
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def run_until_stopped(self) -> None:
        self.start()
        try:
            while not self.stop.wait(0.5):
                if not any(thread.is_alive() for thread in self._threads):
                    break
        finally:
            self.shutdown()
