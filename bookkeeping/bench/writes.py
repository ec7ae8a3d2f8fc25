"""Concurrent production writers: generated reports split into independent shares, each
recorded by a writer of its own, a thread (``record_concurrently``) or a process
(``record_in_processes``), report by report (the real-time path) or in batches.

A report reads the files of earlier reports of its chain, so reports linked through their
files (directly or not) go to the same share. Every writer records its share in generation
order, and no writer needs a file another writer has not recorded yet.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from bookkeeping.backends import open_writer
from bookkeeping.writer.model import JobReport, RecordStatus
from bookkeeping.writer.service import record_reports

PROCESS_TIMEOUT = 1800.0
START_TIMEOUT = 600.0  # a writer process that never gets ready must not block the others


def split_by_chain(reports: Sequence[JobReport], shares: int) -> list[list[JobReport]]:
    """``shares`` lists of reports; reports linked by their files stay in one list."""
    parent = list(range(len(reports)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    producer: dict[str, int] = {}
    for index, report in enumerate(reports):
        for lfn in report.input_files:
            if lfn in producer:
                parent[root(producer[lfn])] = root(index)
        for output in report.output_files:
            producer[output.lfn] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(reports)):
        groups.setdefault(root(index), []).append(index)
    # Largest group first to the least loaded share: shares of about equal size.
    assignment: list[list[int]] = [[] for _ in range(shares)]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(assignment, key=len).extend(group)
    return [[reports[i] for i in sorted(indices)] for indices in assignment]


@dataclass(frozen=True)
class WriteOutcome:
    reports: int
    files: int
    failed: int
    first_error: str | None
    seconds: float = 0.0  # from the first writer's start to the last one's end

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def _record_share(
    engine: Engine, implementation: str, share: list[JobReport], batch_size: int
) -> list[str]:
    writer = open_writer(engine, implementation)
    errors = []
    for result in record_reports(writer, share, batch_size=batch_size):
        if result.status is not RecordStatus.RECORDED:
            errors.append(f"{result.status.value}: {result.error}")
    return errors


def _outcome(shares: list[list[JobReport]], errors: list[str], seconds: float) -> WriteOutcome:
    reports = sum(len(share) for share in shares)
    files = sum(len(report.output_files) for share in shares for report in share)
    return WriteOutcome(reports, files, len(errors), errors[0] if errors else None, seconds)


def record_concurrently(
    engine: Engine, implementation: str, shares: list[list[JobReport]], *, batch_size: int = 1
) -> WriteOutcome:
    """One writer thread per share, all on ``engine``."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="bench-writer") as pool:
        futures = [
            pool.submit(_record_share, engine, implementation, share, batch_size)
            for share in shares
        ]
        errors = [error for future in futures for error in future.result()]
    return _outcome(shares, errors, time.perf_counter() - started)


@dataclass(frozen=True)
class _ProcessJob:
    url: str
    implementation: str
    share: list[JobReport]
    batch_size: int


def _process_main(job: _ProcessJob, start: Any, results: Any) -> None:
    """A writer process: connect and warm up, wait for every other one, record, report."""
    from bookkeeping.engines import create_engine

    engine = create_engine(job.url, pool_size=2)
    try:
        open_writer(engine, job.implementation)  # imports and the first connection, untimed
        start.wait(timeout=START_TIMEOUT)
        # time.monotonic is system-wide on Linux: the parent compares the processes' clocks.
        began = time.monotonic()
        errors = _record_share(engine, job.implementation, job.share, job.batch_size)
        results.put((began, time.monotonic(), errors))
    except BaseException as exc:  # reported by the parent, which must not wait for ever
        results.put((0.0, 0.0, [f"writer process failed: {exc!r}"]))
        raise
    finally:
        engine.dispose()


def record_in_processes(
    url: str, implementation: str, shares: list[list[JobReport]], *, batch_size: int = 1
) -> WriteOutcome:
    """One writer process per share (each with its own engine on ``url``): writers share no
    interpreter lock. The clock runs from the moment every process is ready."""
    context = multiprocessing.get_context("forkserver")
    start = context.Barrier(len(shares))
    results = context.Queue()
    processes = [
        context.Process(
            target=_process_main,
            args=(_ProcessJob(url, implementation, share, batch_size), start, results),
            daemon=True,
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    try:
        finished = [results.get(timeout=PROCESS_TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    errors = [error for _, _, found in finished for error in found]
    began = min(first for first, _, _ in finished)
    ended = max(last for _, last, _ in finished)
    return _outcome(shares, errors, max(ended - began, 0.0))
