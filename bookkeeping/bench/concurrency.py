"""Many clients at once (the test the seed's authors could not run): separate client
processes, each making a bounded number of point look-ups, against the AMGA protocol server
and against the web API, both on loopback.

Clients are processes (``forkserver``: fresh, small interpreters), not threads, so one
client's time never includes waiting for another's share of the interpreter. Each loop
stops by itself after its calls; the whole run has a timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bookkeeping.bench.stats import percentile

# All clients of one measurement must finish within this (64 clients x 200 web look-ups on
# the catalogue take about 20 minutes on the 2-core development machine).
RUN_TIMEOUT = 3600.0


@dataclass(frozen=True)
class ClientJob:
    target: str  # "protocol" or "web"
    port: int
    password: str
    file_ids: tuple[int, ...]  # looked up in turn, one call each
    start_at: float  # time.monotonic() (system-wide on Linux) when every client begins


@dataclass(frozen=True)
class ClientResult:
    started: float
    finished: float
    latencies: tuple[float, ...]
    errors: int


def _wait_until(moment: float) -> float:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    return time.monotonic()


def _protocol_lookup(client: Any, file_id: int) -> None:
    client.selectAttr(["/fileParams:GUID"], f"/fileParams:FILE_ID = {file_id}", True)


def _protocol_calls(job: ClientJob) -> ClientResult:
    from bookkeeping.amga_adapter.client.client import MDClient

    latencies, errors = [], 0
    with MDClient("127.0.0.1", job.port, "root", job.password) as client:
        client.connect()
        _protocol_lookup(client, job.file_ids[0])  # warm-up, untimed: login, caches
        started = _wait_until(job.start_at)
        for file_id in job.file_ids:
            begin = time.monotonic()
            try:
                _protocol_lookup(client, file_id)
            except Exception:  # noqa: BLE001 - a failed call is counted, the loop goes on
                errors += 1
            latencies.append(time.monotonic() - begin)
    return ClientResult(started, time.monotonic(), tuple(latencies), errors)


def _web_calls(job: ClientJob) -> ClientResult:
    latencies, errors = [], 0
    connection = http.client.HTTPConnection("127.0.0.1", job.port, timeout=60)
    with contextlib.suppress(OSError, http.client.HTTPException):  # warm-up, untimed
        connection.request("GET", f"/api/v1/file/{job.file_ids[0]}")
        connection.getresponse().read()
    connection.close()
    started = _wait_until(job.start_at)
    for file_id in job.file_ids:
        begin = time.monotonic()
        try:
            connection.request("GET", f"/api/v1/file/{file_id}")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            if response.getheader("Connection", "").lower() == "close" or response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
        latencies.append(time.monotonic() - begin)
    connection.close()
    return ClientResult(started, time.monotonic(), tuple(latencies), errors)


def run_client(job: ClientJob) -> ClientResult:
    return _protocol_calls(job) if job.target == "protocol" else _web_calls(job)


def client_jobs(
    target: str, port: int, password: str, file_ids: Sequence[int], clients: int, calls: int
) -> list[ClientJob]:
    """``clients`` jobs of ``calls`` look-ups each, starting together a moment from now
    (time enough for the processes to connect)."""
    start_at = time.monotonic() + 2.0 + 0.1 * clients
    return [
        ClientJob(
            target,
            port,
            password,
            tuple(file_ids[(client * calls + i) % len(file_ids)] for i in range(calls)),
            start_at,
        )
        for client in range(clients)
    ]


def run_clients(
    target: str, port: int, password: str, file_ids: Sequence[int], clients: int, calls: int
) -> dict[str, float]:
    """``clients`` processes of ``calls`` look-ups each: throughput (all calls over the
    wall time from the first start to the last finish) and latency percentiles."""
    context = multiprocessing.get_context("forkserver")
    # The fork server imports only what the clients need, not the caller's __main__.
    context.set_forkserver_preload([__name__])
    with context.Pool(processes=clients) as pool:  # the processes start here
        jobs = client_jobs(target, port, password, file_ids, clients, calls)
        pending = pool.map_async(run_client, jobs, chunksize=1)
        results: list[ClientResult] = pending.get(RUN_TIMEOUT)
    latencies = sorted(value for result in results for value in result.latencies)
    wall = max(r.finished for r in results) - min(r.started for r in results)
    return {
        "calls": len(latencies),
        "calls_per_s": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.5) * 1e3,
        "p95_ms": percentile(latencies, 0.95) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "errors": sum(r.errors for r in results),
    }
