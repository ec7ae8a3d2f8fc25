"""The writer service: reports (files, parsed objects, generated streams) to a writer, in
batches, with per-report results. Front-ends (``bk ingest``, ``bk generate``, the web
endpoint) call this; it works with any ``BookkeepingWriter``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bookkeeping.errors import BookkeepingError
from bookkeeping.writer.model import JobReport, RecordResult, RecordStatus
from bookkeeping.writer.parsing import load_report

DEFAULT_BATCH_SIZE = 1000

Progress = Callable[[Sequence[RecordResult]], None]


class BatchWriter(Protocol):
    """What the service needs of a writer; every ``bookkeeping.interface.BookkeepingWriter``
    is one. Declared here so that the writer package does not import the interface, which
    imports the writer's report model (no import cycle)."""

    def record_batch(self, reports: Sequence[JobReport]) -> list[RecordResult]: ...


def record_reports(
    writer: BatchWriter,
    reports: Iterable[JobReport],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Progress | None = None,
) -> Iterator[RecordResult]:
    """Record ``reports`` in batches of ``batch_size`` (the bulk path); results in order."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    iterator = iter(reports)
    while batch := list(itertools.islice(iterator, batch_size)):
        results = writer.record_batch(batch)
        if on_batch is not None:
            on_batch(results)
        yield from results


@dataclass(frozen=True)
class IngestResult:
    backend: str
    result: RecordResult


def _parse(paths: Iterable[Path]) -> Iterator[JobReport | RecordResult]:
    for path in paths:
        try:
            yield load_report(path)
        except BookkeepingError as exc:
            yield RecordResult(str(path), RecordStatus.FAILED, error=str(exc), error_code=exc.code)


def ingest_files(
    paths: Sequence[Path],
    writers: Mapping[str, BatchWriter],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_report: Callable[[], None] | None = None,
) -> list[IngestResult]:
    """Parse each file and record it with every writer. A report that cannot be parsed is
    a FAILED result (for each writer) and the others go on; results follow ``paths``."""
    results: list[IngestResult] = []
    parsed = _parse(paths)
    while chunk := list(itertools.islice(parsed, batch_size)):
        reports = [item for item in chunk if isinstance(item, JobReport)]
        recorded = {name: iter(writer.record_batch(reports)) for name, writer in writers.items()}
        for item in chunk:
            for name in writers:
                result = item if isinstance(item, RecordResult) else next(recorded[name])
                results.append(IngestResult(name, result))
            if on_report is not None:
                on_report()
    return results
