"""Concurrent production writers: generated reports split into independent shares, each
recorded report by report (the real-time path) by a writer thread of its own.

A report reads the files of earlier reports of its chain, so reports linked through their
files (directly or not) go to the same share. Every writer records its share in generation
order, and no writer needs a file another writer has not recorded yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bookkeeping.backends import open_writer
from bookkeeping.writer.model import JobReport, RecordStatus


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


def _record_share(engine: Engine, implementation: str, share: list[JobReport]) -> list[str]:
    writer = open_writer(engine, implementation)
    errors = []
    for report in share:
        result = writer.record(report)
        if result.status is not RecordStatus.RECORDED:
            errors.append(f"{result.status.value}: {result.error}")
    return errors


def record_concurrently(
    engine: Engine, implementation: str, shares: list[list[JobReport]]
) -> WriteOutcome:
    with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="bench-writer") as pool:
        futures = [pool.submit(_record_share, engine, implementation, s) for s in shares]
        errors = [error for future in futures for error in future.result()]
    reports = sum(len(share) for share in shares)
    files = sum(len(report.output_files) for share in shares for report in share)
    return WriteOutcome(reports, files, len(errors), errors[0] if errors else None)
