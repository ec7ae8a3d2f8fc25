"""The shape both daemons share: a loop of passes with a ``run once`` twin, a graceful stop
on SIGTERM/SIGINT (the pass in progress finishes, the daemon's claims are given back), and
state only in the database, so a daemon killed with SIGKILL resumes when started again."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)


def instance_name(kind: str, given: str | None = None) -> str:
    """A daemon's name in its claims: given (``--name``, to resume one's own rows at once
    after a restart) or ``<kind>@<host>`` (one daemon per host and kind)."""
    return given or f"{kind}@{socket.gethostname()}"[:64]


class Loop:
    """Run ``step`` until stopped; wait ``interval`` seconds after a pass that found nothing
    to do (woken early by a stop)."""

    def __init__(self, step: Callable[[], bool], interval: float) -> None:
        self.step = step
        self.interval = interval
        self.stopping = threading.Event()
        self.woken = threading.Event()

    def stop(self, *_: object) -> None:
        self.stopping.set()
        self.woken.set()

    def wake(self) -> None:
        """Start the next pass now (new work arrived)."""
        self.woken.set()

    def install_signals(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: stopping after this pass (pid %d)", signum, os.getpid())
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def heartbeat(self, renew: Callable[[], None], every: float) -> None:
        """Call ``renew`` every ``every`` seconds in a thread while the loop runs: a pass
        longer than the stale time (a big cartridge) keeps its claims."""

        def beat() -> None:
            while not self.stopping.wait(every):
                try:
                    renew()
                except Exception:  # the next beat tries again
                    log.exception("renewing claims failed")

        threading.Thread(target=beat, name="claims-heartbeat", daemon=True).start()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.step()
            except Exception:  # a failed pass is logged and retried: the daemon lives on
                log.exception("pass failed")
                busy = False
            if not busy:
                self.woken.wait(self.interval)
            self.woken.clear()
