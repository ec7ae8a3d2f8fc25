"""The aggregation's deliveries recall files only on tape through the recall daemon.

``DaemonRecaller`` is the aggregation's ``Recaller`` on the data-handling recall requests
(``bookkeeping.datahandling.requests``): one request for a delivery's tape-only files to the
registered recall areas, waited for while the daemon (``RecallWorker``, another process)
reads each cartridge once; the recalled copies are registered in the bookkeeping, so the
delivery then reads them from disk, and its pins are released when the delivery is done.
It lives here, above both packages, which the import contracts keep independent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from bookkeeping.datahandling.requests import RecallRequests
from bookkeeping.interface import Bookkeeping
from bookkeeping.storage.registry import StorageRegistry

OWNER = "aggregation"


class DaemonRecaller:
    def __init__(
        self,
        engine: Engine,
        reader: Bookkeeping,
        *,
        areas: Sequence[str] | None = None,
        lease_seconds: int = 6 * 3600,
        timeout_seconds: float = 6 * 3600,
        poll_seconds: float = 1.0,
    ) -> None:
        registry = StorageRegistry(engine)

        def role_of(names: Sequence[str]) -> dict[str, str]:
            return {name: record.role for name, record in registry.records(names).items()}

        self.requests = RecallRequests(engine, reader, role_of)
        self.areas = (
            list(areas)
            if areas is not None
            else [record.name for record in registry.list(role="recall")]
        )
        self.lease_seconds = lease_seconds
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._submitted: list[int] = []

    def recall(self, lfns: Sequence[str], keep_alive: Callable[[], bool]) -> dict[str, str]:
        if not self.areas:
            return {lfn: "no recall area is registered" for lfn in lfns}
        status = self.requests.submit(OWNER, list(lfns), self.areas, self.lease_seconds)
        self._submitted.append(status.request_id)
        deadline = time.monotonic() + self.timeout_seconds
        while not status.done:
            if time.monotonic() > deadline:
                waiting = [f.lfn for f in status.files if f.state == "waiting"]
                return {lfn: f"not recalled within {self.timeout_seconds:.0f} s" for lfn in waiting}
            if not keep_alive():
                return {}
            time.sleep(self.poll_seconds)
            found = self.requests.status(status.request_id)
            if found is None:
                return {lfn: "the recall request vanished" for lfn in lfns}
            status = found
        return {f.lfn: f.error or "failed" for f in status.files if f.state == "failed"}

    def release(self) -> None:
        for request_id in self._submitted:
            self.requests.release(request_id)
        self._submitted.clear()
